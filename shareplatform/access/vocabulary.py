"""The access vocabulary as types: the acts, the kinds of object and the route permissions that
policy lines and code share.

The policy file validator (shareplatform/access/policy_files.py) takes its vocabulary from here,
so a policy line or a call that names anything else fails loudly. The members are strings (StrEnum),
so Casbin matches them against policy lines as it always has.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NewType

from ..domain.cases import RecordType
from ..domain.labels import Classification


class Act(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    NOTICE = "notice"  # know that something is held ("further information is held")
    EDIT = "edit"
    MANAGE = "manage"
    VERIFY = "verify"
    BREAK_GLASS = "break_glass"
    RECORD = "record"
    APPROVE = "approve"
    EXPORT = "export"


class Kind(enum.StrEnum):
    """Kinds of object other than records (records are `record_kind(RecordType)`)."""

    CASE = "case"
    NOMINAL = "nominal"
    TEAM = "team"
    AUDIT = "audit"
    POLICY = "policy"
    USER = "user"
    RECORD_AUDIT = "record_audit"
    BREAK_GLASS_REVIEW = "break_glass_review"
    MEETING = "meeting"
    MEETING_OPEN = "meeting/open"
    MEETING_CLOSED = "meeting/closed"
    DISCLOSURE = "disclosure"
    DECISION = "decision"
    ACTION = "action"
    BREAKOUT = "breakout"
    DASHBOARD = "dashboard"
    MAPPA_LEVEL = "mappa_level"
    ACTION_STATUS = "action_status"
    LIFECYCLE = "lifecycle"
    CHECKLIST = "checklist"
    PLAN = "plan"
    ASSESSMENT_SHARE = "assessment_share"
    STATISTICS = "statistics"


RecordKind = NewType("RecordKind", str)  # "record/<RecordType>"
ObjectKind = Kind | RecordKind
RECORD_PREFIX = "record/"


def record_kind(record_type: RecordType | str) -> RecordKind:
    return RecordKind(RECORD_PREFIX + RecordType.parse(record_type).value)


RECORD_KINDS: tuple[RecordKind, ...] = tuple(record_kind(t) for t in RecordType)


def parse_kind(text: str) -> ObjectKind:
    """A kind as policy lines and stored rows write it ("case", "record/MINUTES")."""
    if text.startswith(RECORD_PREFIX):
        return record_kind(text.removeprefix(RECORD_PREFIX))
    return Kind(text)


@dataclass(frozen=True)
class Need:
    """What a route needs: `act` on some object of `kind` at `label`, or a mark with no policy."""

    mark: str = ""  # "public", "signed-in", "pre-mfa": no policy decision
    kind: ObjectKind | None = None
    act: Act | None = None
    label: Classification = Classification.OFFICIAL_SENSITIVE


class Permission(enum.Enum):
    """Every route declares one. A capability check: may this role `act` on `kind` at all (at
    `label`, on a case it is related to)? The object itself is decided again when it is read."""

    PUBLIC = Need("public")  # no sign-in: the sign-in pages, assets, health
    SIGNED_IN = Need("signed-in")  # any signed-in user: their own account, the home page
    PRE_MFA = Need("pre-mfa")  # a session that still owes its second factor
    CASE_READ = Need(kind=Kind.CASE, act=Act.READ)
    CASE_BREAK_GLASS = Need(kind=Kind.CASE, act=Act.BREAK_GLASS)
    NOMINAL_READ = Need(kind=Kind.NOMINAL, act=Act.READ)
    TEAM_MANAGE = Need(kind=Kind.TEAM, act=Act.MANAGE)
    RECORD_READ = Need(kind=record_kind(RecordType.CONTACT_OFFICE), act=Act.READ)
    RECORD_WRITE = Need(kind=record_kind(RecordType.CONTACT_OFFICE), act=Act.WRITE)
    RECORD_AUDIT_READ = Need(kind=Kind.RECORD_AUDIT, act=Act.READ)
    BREAK_GLASS_REVIEW = Need(kind=Kind.BREAK_GLASS_REVIEW, act=Act.READ)
    MEETING_READ = Need(kind=Kind.MEETING_OPEN, act=Act.READ)
    MEETING_WRITE = Need(kind=Kind.MEETING_OPEN, act=Act.WRITE)
    MEETING_EXPORT = Need(kind=Kind.MEETING, act=Act.EXPORT)
    DISCLOSURE_READ = Need(kind=Kind.DISCLOSURE, act=Act.READ)
    DISCLOSURE_WRITE = Need(kind=Kind.DISCLOSURE, act=Act.WRITE, label=Classification.SECRET)
    DECISION_READ = Need(kind=Kind.DECISION, act=Act.READ)
    DECISION_READ_SECRET = Need(kind=Kind.DECISION, act=Act.READ, label=Classification.SECRET)
    DECISION_WRITE = Need(kind=Kind.DECISION, act=Act.WRITE, label=Classification.SECRET)
    DECISION_EXPORT = Need(kind=Kind.DECISION, act=Act.EXPORT, label=Classification.SECRET)
    LIFECYCLE_READ = Need(kind=Kind.LIFECYCLE, act=Act.READ)
    LIFECYCLE_WRITE = Need(kind=Kind.LIFECYCLE, act=Act.WRITE)
    CHECKLIST_READ = Need(kind=Kind.CHECKLIST, act=Act.READ)
    PLAN_WRITE = Need(kind=Kind.PLAN, act=Act.WRITE)
    PLAN_APPROVE = Need(kind=Kind.PLAN, act=Act.APPROVE)
    ASSESSMENT_SHARE_READ = Need(kind=Kind.ASSESSMENT_SHARE, act=Act.READ)
    POLICY_READ = Need(kind=Kind.POLICY, act=Act.READ, label=Classification.OFFICIAL)
    POLICY_EDIT = Need(kind=Kind.POLICY, act=Act.EDIT, label=Classification.OFFICIAL)
    POLICY_APPROVE = Need(kind=Kind.POLICY, act=Act.APPROVE, label=Classification.OFFICIAL)
    USER_MANAGE = Need(kind=Kind.USER, act=Act.MANAGE, label=Classification.OFFICIAL)
    AUDIT_READ = Need(kind=Kind.AUDIT, act=Act.READ, label=Classification.OFFICIAL)
    AUDIT_EXPORT = Need(kind=Kind.AUDIT, act=Act.EXPORT, label=Classification.OFFICIAL)

    @property
    def need(self) -> Need:
        return self.value

    @property
    def is_public(self) -> bool:
        return self.need.mark == "public"

    @property
    def signed_in_only(self) -> bool:
        return self.need.mark == "signed-in"

    @property
    def pre_mfa(self) -> bool:
        return self.need.mark == "pre-mfa"
