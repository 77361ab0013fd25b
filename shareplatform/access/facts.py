"""What a decision is made on: the subject, the object and the facts relating them.

These are plain frozen values (no ORM objects), so a decision depends on nothing else and can be
cached on exactly these fields plus the policy version.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from ..domain.agencies import Agency, Oversight, Role
from ..domain.labels import Classification, dominates
from ..domain.vetting import Vetting
from .vocabulary import ObjectKind


@dataclass(frozen=True)
class Subject:
    """The acting user as the access layer sees them, with today's memberships."""

    user_id: uuid.UUID
    username: str
    role: Role
    agency: Agency
    vetting: Vetting
    vetting_expires: date | None
    clearance: Classification | None  # None: expired or unvetted
    nsd_unit: str | None
    ct_unit: str | None
    team_cases: frozenset[uuid.UUID] = frozenset()
    panel_cases: frozenset[uuid.UUID] = frozenset()
    break_glass_cases: frozenset[uuid.UUID] = frozenset()
    ended: dict[uuid.UUID, date] = field(default_factory=dict, hash=False, compare=False)

    @property
    def in_corridor(self) -> bool:
        return self.role.in_corridor


@dataclass(frozen=True)
class CaseRef:
    """The parts of a case that need-to-know depends on."""

    case_id: uuid.UUID
    nsd_unit: str | None
    ct_unit: str | None


@dataclass(frozen=True)
class Relation:
    """How the subject stands to one case today: the facts need-to-know depends on."""

    case_id: uuid.UUID | None = None
    team: bool = False
    panel: bool = False
    oversight: bool = False
    break_glass: bool = False

    @property
    def need_to_know(self) -> bool:
        return self.team or self.panel or self.oversight

    @property
    def flags(self) -> tuple[bool, bool, bool, bool]:
        return (self.team, self.panel, self.oversight, self.break_glass)


NO_RELATION = Relation()


@dataclass(frozen=True)
class Facts:
    """The object of a request, reduced to what policy may look at.

    `kind` e.g. Kind.CASE or record_kind(RecordType.CONTACT_OFFICE).
    """

    kind: ObjectKind
    label: Classification
    team: bool = False
    panel: bool = False
    oversight: bool = False
    break_glass: bool = False
    author: bool = False
    owner: bool = False
    orcon_foreign: bool = False
    # which case, for explanations only ("not on the case team since ..."): never part of a decision
    case_id: uuid.UUID | None = field(default=None, compare=False, hash=False)

    @property
    def marking(self) -> str:
        """The label as policy lines write it (the Casbin model matches on this)."""
        return self.label.marking

    @classmethod
    def on(
        cls,
        kind: ObjectKind,
        label: Classification,
        rel: Relation = NO_RELATION,
        *,
        author: bool = False,
        owner: bool = False,
        orcon_foreign: bool = False,
    ) -> Facts:
        """The facts of an object of `kind` at `label`, related to the subject by `rel`."""
        return cls(
            kind,
            label,
            team=rel.team,
            panel=rel.panel,
            oversight=rel.oversight,
            break_glass=rel.break_glass,
            author=author,
            owner=owner,
            orcon_foreign=orcon_foreign,
            case_id=rel.case_id,
        )

    @property
    def relation(self) -> Relation:
        return Relation(self.case_id, self.team, self.panel, self.oversight, self.break_glass)


@dataclass(frozen=True)
class SubjectFacts:
    role: str
    clearance: str  # marking, or "" when none


def relation(subject: Subject, case: CaseRef) -> Relation:
    """How the subject stands to a case today."""
    oversight = subject.role.info.oversight
    return Relation(
        case_id=case.case_id,
        team=case.case_id in subject.team_cases,
        panel=case.case_id in subject.panel_cases,
        oversight=(
            (
                oversight is Oversight.NSD_UNIT
                and case.nsd_unit is not None
                and case.nsd_unit == subject.nsd_unit
            )
            or (
                oversight is Oversight.CT_UNIT
                and case.ct_unit is not None
                and case.ct_unit == subject.ct_unit
            )
        ),
        break_glass=case.case_id in subject.break_glass_cases,
    )


def clearance_dominates(clearance: str, label: Classification | str) -> bool:
    if not clearance:
        return False
    return dominates(Classification.parse(clearance), Classification.parse(label))


def _need_to_know(o: Facts) -> bool:
    return o.team or o.panel or o.oversight


CONDITIONS = {
    "any": lambda s, o: True,
    "need_to_know": lambda s, o: _need_to_know(o),
    "team": lambda s, o: o.team,
    "panel": lambda s, o: o.panel,
    "oversight": lambda s, o: o.oversight,
    "break_glass": lambda s, o: o.break_glass and not _need_to_know(o),
    "author": lambda s, o: o.author,
    # the object is someone else's (for deny lines: e.g. a keyworker reads only their own contacts)
    "others": lambda s, o: not o.author,
    "owner": lambda s, o: o.owner,
    "orcon_foreign": lambda s, o: o.orcon_foreign,
    "uncleared": lambda s, o: not clearance_dominates(s.clearance, o.label),
}


def cond(name: str, sub: SubjectFacts, obj: Facts) -> bool:
    """Matcher function: an unknown condition never matches (fail closed for allow lines)."""
    check = CONDITIONS.get(name)
    return bool(check and check(sub, obj))
