"""What-if: who would gain and who would lose which access if a draft policy applied.

Two PolicyEngine instances (live and draft) judge every (user, case relation, record fact class)
through the same Facts the kernel builds, with the kernel's clearance floor on top. Records are
grouped by fact class (case, kind, label, ORCON/origin/release, author), so the cost grows with the
number of distinct classes, not of records; the engines cache decisions on identical facts.

An administrator is shown only what their own clearance reaches (`WhatIf.seen_by`): effects on
material above it (case references, record ids, counts) are withheld, with a notice that carries
no count, so even the number of SECRET items a change touches stays hidden.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.enforcer import PolicyEngine
from ..access.facts import CaseRef, Facts, Subject, SubjectFacts, relation
from ..access.vocabulary import Kind, parse_kind
from ..accounts.models import User
from ..cases.models import Case
from ..domain.labels import Caveat, Classification, Label, dominates
from ..records.models import Record

CASE_LABEL = Classification.OFFICIAL_SENSITIVE.marking  # case pages and nominal identities


@dataclass(frozen=True)
class Change:
    direction: str  # gain or loss
    username: str
    agency: str
    role: str
    case: str  # case reference
    kind: str  # record/<type>, case or nominal
    label: str
    origin: str  # originating agency of the records ("" for case pages)
    records: tuple[str, ...]  # record ids behind this line (empty for case pages)

    @property
    def count(self) -> int:
        return len(self.records) or 1


@dataclass
class Group:
    direction: str
    label: str
    agency: str
    count: int = 0
    users: set[str] = field(default_factory=set)
    items: list[Change] = field(default_factory=list)


@dataclass
class WhatIf:
    gains: list[Change] = field(default_factory=list)
    losses: list[Change] = field(default_factory=list)
    users: int = 0
    records: int = 0
    classes: int = 0
    evaluations: int = 0
    role_users: dict[str, int] = field(default_factory=dict)  # active users holding each role
    records_by_label: dict[str, int] = field(default_factory=dict)
    classes_by_label: dict[str, int] = field(default_factory=dict)
    withheld: bool = False  # effects above the viewer's clearance are not shown

    def seen_by(self, clearance: Classification | None) -> WhatIf:
        """What an administrator with `clearance` may be shown: nothing above it, not even a
        count. `withheld` depends on the clearance alone, so it says nothing about the data."""

        def visible(label: str) -> bool:
            return clearance is not None and dominates(clearance, Classification.parse(label))

        return WhatIf(
            gains=[c for c in self.gains if visible(c.label)],
            losses=[c for c in self.losses if visible(c.label)],
            users=self.users,
            records=sum(n for lbl, n in self.records_by_label.items() if visible(lbl)),
            classes=sum(n for lbl, n in self.classes_by_label.items() if visible(lbl)),
            evaluations=self.evaluations,
            role_users=dict(self.role_users),
            withheld=not all(visible(m) for m in Classification.markings()),
        )

    def groups(self, direction: str) -> list[Group]:
        """Counts by label and the gaining (or losing) user's agency, with the list behind each."""
        out: dict[tuple[str, str], Group] = {}
        for change in self.gains if direction == "gain" else self.losses:
            g = out.setdefault(
                (change.label, change.agency), Group(direction, change.label, change.agency)
            )
            g.count += change.count
            g.users.add(change.username)
            g.items.append(change)
        order = {m: i for i, m in enumerate(Classification.markings())}
        return sorted(out.values(), key=lambda g: (-order.get(g.label, 0), g.agency))

    def count(self, direction: str, label: str | None = None, agency: str | None = None) -> int:
        changes = self.gains if direction == "gain" else self.losses
        return sum(
            c.count
            for c in changes
            if (label is None or c.label == label) and (agency is None or c.agency == agency)
        )

    @property
    def empty(self) -> bool:
        return not self.gains and not self.losses


@dataclass(frozen=True)
class _Class:
    case_id: uuid.UUID
    kind: str
    label: str
    orcon: bool
    origin: str
    released: bool
    author_id: uuid.UUID


def _record_classes(session: Session) -> dict[uuid.UUID, dict[_Class, list[str]]]:
    by_case: dict[uuid.UUID, dict[_Class, list[str]]] = defaultdict(lambda: defaultdict(list))
    rows = session.execute(
        select(
            Record.id,
            Record.case_id,
            Record.record_type,
            Record.classification,
            Record.caveats,
            Record.originating_agency,
            Record.released_at,
            Record.author_id,
        )
    )
    orcon_cache: dict[str, bool] = {}
    for rid, case_id, rtype, cls, caveats, origin, released, author in rows:
        orcon = orcon_cache.get(caveats or "")
        if orcon is None:
            orcon = Caveat.ORCON in Label.of(cls, caveats or "").caveats
            orcon_cache[caveats or ""] = orcon
        key = _Class(case_id, f"record/{rtype}", cls, orcon, origin, released is not None, author)
        by_case[case_id][key].append(str(rid))
    return by_case


def _subjects(session: Session, access: object, today: date) -> list[Subject]:
    users = session.scalars(select(User).where(User.disabled_at.is_(None)).order_by(User.username))
    return [access.subject(session, u, today) for u in users]  # type: ignore[attr-defined]


def run(
    session: Session, access: object, live: PolicyEngine, draft: PolicyEngine, today: date
) -> WhatIf:
    result = WhatIf()
    subjects = _subjects(session, access, today)
    cases = {
        c.id: (c.reference, CaseRef(c.id, c.nsd_unit, c.ct_unit))
        for c in session.scalars(select(Case).order_by(Case.reference))
    }
    classes = _record_classes(session)
    result.users = len(subjects)
    for subject in subjects:
        role = subject.role.value
        result.role_users[role] = result.role_users.get(role, 0) + 1
    for per_case in classes.values():
        for cls, ids in per_case.items():
            by_label = result.records_by_label
            by_label[cls.label] = by_label.get(cls.label, 0) + len(ids)
            result.classes_by_label[cls.label] = result.classes_by_label.get(cls.label, 0) + 1
    result.records = sum(result.records_by_label.values())
    result.classes = sum(result.classes_by_label.values())
    before = live.evaluations + draft.evaluations
    for subject in subjects:
        sub = SubjectFacts(
            subject.role.value, subject.clearance.marking if subject.clearance else ""
        )
        agency = subject.agency.value

        def judge(
            facts: Facts, sub: SubjectFacts = sub, subject: Subject = subject
        ) -> tuple[bool, bool]:
            if subject.clearance is None or not dominates(
                subject.clearance, Classification.parse(facts.label)
            ):
                return (
                    False,
                    False,
                )  # the kernel floor: nothing above clearance, whatever policy says
            return live.decide(sub, facts, "read").allowed, draft.decide(sub, facts, "read").allowed

        def note(was: bool, now: bool, subject: Subject = subject, **kw: object) -> None:
            if was == now:
                return
            who = (subject.username, subject.agency.value, subject.role.value)
            change = Change("gain" if now else "loss", *who, **kw)  # type: ignore[arg-type]
            (result.gains if now else result.losses).append(change)

        for case_id, (reference, ref) in cases.items():
            rel = relation(subject, ref)
            for kind in (Kind.CASE, Kind.NOMINAL):
                was, now = judge(Facts.on(kind, Classification.parse(CASE_LABEL), rel))
                note(was, now, case=reference, kind=kind, label=CASE_LABEL, origin="", records=())
            for cls, ids in classes.get(case_id, {}).items():
                facts = Facts.on(
                    parse_kind(cls.kind),
                    Classification.parse(cls.label),
                    rel,
                    author=cls.author_id == subject.user_id,
                    orcon_foreign=cls.orcon and cls.origin != agency and not cls.released,
                )
                was, now = judge(facts)
                note(
                    was,
                    now,
                    case=reference,
                    kind=cls.kind,
                    label=cls.label,
                    origin=cls.origin,
                    records=tuple(ids),
                )
    result.evaluations = live.evaluations + draft.evaluations - before
    return result
