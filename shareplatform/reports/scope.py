"""Whose figures a viewer sees, decided by the access layer and expressed as SQL.

Own scope (practitioners, SOLs, HoNSUs, LROs...): the cases the viewer may open, selected with the
same terms as cases.services.visible_case_ids_clause, split into groups by how the viewer stands to
the case (team, panel, oversight, break-glass). Every decision depends only on that relation, so a
group needs one decision per object kind, and records/visibility.py gives its records clause.

National scope: a role the policy lets read `statistics` without any relation to a case sees
aggregates over every case, never case content, with small numbers suppressed.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, not_, or_, select, true

from ..access.facts import CaseRef, Facts, Relation, relation
from ..access.vocabulary import Act, Kind, ObjectKind
from ..cases.models import Case
from ..context import Ctx
from ..crypto.models import DataKey
from ..domain.labels import Classification
from ..records.models import Record
from ..records.visibility import record_filter
from .source import figures

OS = Classification.OFFICIAL_SENSITIVE
RELATIONS = ("team", "panel", "oversight", "break_glass")


@dataclass
class Group:
    """Cases the viewer stands to in the same way; `where` selects them in SQL."""

    where: ColumnElement[bool]
    rel: Relation
    ref: CaseRef  # one case of the group, for record_filter
    records: ColumnElement[bool] = field(default_factory=false)


@dataclass
class Scope:
    national: bool
    groups: list[Group]
    suppress: bool  # small numbers hidden (a wider audience than the cases' own teams)
    secret: bool  # SECRET-derived counts may be shown
    title: str
    national_labels: tuple[str, ...] = ()

    def cases(self) -> ColumnElement[bool]:
        if self.national:
            return true()
        return or_(*[g.where for g in self.groups]) if self.groups else false()

    def records(self) -> ColumnElement[bool]:
        """Records the viewer's figures may count (query must join Record to Case)."""
        if self.national:
            return and_(Record.classification.in_(self.national_labels), live(Record))
        return or_(*[and_(g.where, g.records) for g in self.groups]) if self.groups else false()

    def where_allowed(
        self, ctx: Ctx, kind: ObjectKind, label: Classification, act: Act = Act.READ
    ) -> ColumnElement[bool]:
        """Cases where `act` on `kind` at `label` is allowed (national: the statistics decision)."""
        if self.national:
            return true() if label.marking in self.national_labels else false()
        allowed = [
            g.where
            for g in self.groups
            if ctx.access.decide(
                ctx.session,
                ctx.subject,
                Facts.on(kind, label, g.rel),
                act,
            ).allowed
        ]
        return or_(*allowed) if allowed else false()

    @property
    def case_count_hint(self) -> int:
        return len(self.groups)


def live(model: type) -> ColumnElement[bool]:
    """Crypto-shredded rows are gone for good: never counted."""
    return model.data_key_id.not_in(select(DataKey.id).where(DataKey.wrapped.is_(None)))  # type: ignore[attr-defined]


def _predicates(ctx: Ctx) -> dict[str, ColumnElement[bool] | None]:
    s = ctx.subject

    def among(ids: frozenset) -> ColumnElement[bool] | None:
        return Case.id.in_(ids) if ids else None

    oversight = s.role.info.oversight.value
    unit = None
    if oversight == "nsd_unit" and s.nsd_unit:
        unit = Case.nsd_unit == s.nsd_unit
    elif oversight == "ct_unit" and s.ct_unit:
        unit = Case.ct_unit == s.ct_unit
    return {
        "team": among(s.team_cases),
        "panel": among(s.panel_cases),
        "oversight": unit,
        "break_glass": among(s.break_glass_cases),
    }


def national_labels(ctx: Ctx) -> tuple[str, ...]:
    """Labels whose material the viewer may see counted nationally (policy: `statistics`)."""
    return tuple(
        c.marking
        for c in Classification
        if ctx.access.decide(
            ctx.session,
            ctx.subject,
            Facts(Kind.STATISTICS, Classification.parse(c.marking)),
            Act.READ,
        ).allowed
    )


def scope_for(ctx: Ctx, settings_suppress: bool = True) -> Scope:
    labels = national_labels(ctx)
    if OS.marking in labels:
        secret = Classification.SECRET.marking in labels and ctx.subject.in_corridor
        return Scope(True, [], settings_suppress, secret, "National", labels)
    groups = own_groups(ctx)
    return Scope(False, groups, False, ctx.subject.in_corridor, _title(ctx))


def own_groups(ctx: Ctx) -> list[Group]:
    preds = _predicates(ctx)
    present = [k for k in RELATIONS if preds[k] is not None]
    groups: list[Group] = []
    for flags in itertools.product((False, True), repeat=len(present)):
        if not any(flags):
            continue
        terms = []
        for name, on in zip(present, flags, strict=True):
            pred = preds[name]
            assert pred is not None
            terms.append(pred if on else not_(pred))
        where = and_(*terms)
        row = (
            figures(ctx)
            .execute(select(Case.id, Case.nsd_unit, Case.ct_unit).where(where).limit(1))
            .first()
        )
        if row is None:
            continue
        ref = CaseRef(row[0], row[1], row[2])
        # the group's relation, for any of its cases (decisions never depend on the case id)
        rel = dataclasses.replace(relation(ctx.subject, ref), case_id=None)
        # the case page decision: expired vetting or policy can take every case away
        if not ctx.access.decide(
            ctx.session, ctx.subject, Facts.on(Kind.CASE, OS, rel), Act.READ
        ).allowed:
            continue
        groups.append(Group(where, rel, ref, record_filter(ctx, ref)))
    return groups


def _title(ctx: Ctx) -> str:
    s = ctx.subject
    oversight = s.role.info.oversight.value
    if oversight == "nsd_unit" and s.nsd_unit:
        return f"{s.nsd_unit} NSD unit and your cases"
    if oversight == "ct_unit" and s.ct_unit:
        return f"{s.ct_unit} and your cases"
    return "Your cases"
