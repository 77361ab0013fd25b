"""MAPPA vocabulary and the plain-Python rules of the decision log (no Flask, no SQLAlchemy)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from ..domain.errors import InvalidValue

MAX_TEXT = 20_000
MAX_SHORT = 400


class _Parsed(enum.StrEnum):
    @classmethod
    def parse(cls, value: object):
        text = str(value or "").strip().upper().replace("-", "_").replace(" ", "_")
        for member in cls:
            if member.value == text:
                return member
        raise InvalidValue(_KINDS[cls.__name__], value, [m.value for m in cls])

    @property
    def title(self) -> str:  # type: ignore[override]
        return _TITLES[self.value]


class MeetingType(_Parsed):
    MAPPA_L2 = "MAPPA_L2"
    MAPPA_L3 = "MAPPA_L3"
    CORE_GROUP = "CORE_GROUP"
    PATHFINDER = "PATHFINDER"
    REVEAL = "REVEAL"


class Originator(_Parsed):
    SECURITY_SERVICE = "SECURITY_SERVICE"
    CT_POLICING = "CT_POLICING"
    JCTPPH = "JCTPPH"
    OTHER = "OTHER"


class ActionState(_Parsed):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


_KINDS = {"MeetingType": "meeting type", "Originator": "originator", "ActionState": "action status"}

_TITLES = {
    "MAPPA_L2": "MAPPA Level 2 meeting",
    "MAPPA_L3": "MAPPA Level 3 meeting",
    "CORE_GROUP": "Core group",
    "PATHFINDER": "Pathfinder meeting",
    "REVEAL": "Reveal meeting",
    "SECURITY_SERVICE": "Security Service",
    "CT_POLICING": "CT Policing",
    "JCTPPH": "Joint CT Prison and Probation Hub",
    "OTHER": "Other originator",
    "OPEN": "Open",
    "IN_PROGRESS": "In progress",
    "DONE": "Done",
    "CANCELLED": "Cancelled",
}

DUE_SOON_DAYS = 7

# Open and in-progress actions are still to do; done and cancelled ones are finished.
LIVE_STATES = frozenset({"OPEN", "IN_PROGRESS"})
# Which status may follow which (an action's history only ever grows).
NEXT_STATES = {
    "OPEN": frozenset({"IN_PROGRESS", "DONE", "CANCELLED"}),
    "IN_PROGRESS": frozenset({"DONE", "CANCELLED"}),
    "DONE": frozenset(),
    "CANCELLED": frozenset(),
}


@dataclass(frozen=True)
class Attendee:
    agency: str
    role: str
    name: str = ""
    user_id: uuid.UUID | None = None
    closed_part: bool = False


@dataclass(frozen=True)
class NewMeeting:
    meeting_type: str
    held_on: date | None
    chair_id: uuid.UUID | None
    co_chair_id: uuid.UUID | None
    attendees: list[Attendee]
    open_minutes: str
    closed_minutes: str = ""  # SECRET; only corridor managers on the panel may record it
    next_review: date | None = None


@dataclass(frozen=True)
class NewDisclosure:
    originator: str
    originator_reference: str
    received_by_id: uuid.UUID | None
    received_at: datetime | None
    classification: str = "SECRET"
    caveats: tuple[str, ...] = ("ORCON",)
    handling: str = ""
    summary: str = ""
    originator_detail: str = ""  # the originator's name when OTHER
    meeting_id: uuid.UUID | None = None


@dataclass(frozen=True)
class NewBreakout:
    text: str
    classification: str = "OFFICIAL-SENSITIVE"
    consent_from: str = ""  # who at the originator consented to release (ORCON material)
    consent_reference: str = ""
    consent_on: date | None = None


@dataclass(frozen=True)
class NewAction:
    description: str
    owner_id: uuid.UUID | None
    due_on: date | None
    breakout: NewBreakout | None = None


@dataclass(frozen=True)
class NewDecision:
    meeting_id: uuid.UUID | None
    disclosure_ids: list[uuid.UUID]
    decision: str
    rationale: str
    options: str = ""
    level: int | str | None = None
    level_rationale: str = ""  # goes to the case's level history at OFFICIAL-SENSITIVE
    # "": follow what it rests on (SECRET on a SECRET disclosure, else OFFICIAL-SENSITIVE)
    classification: str = ""
    caveats: tuple[str, ...] = ()
    actions: list[NewAction] = field(default_factory=list)


def need_text(kind: str, value: str, why: str, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidValue(kind, value, why=why)
    if len(text) > limit:
        raise InvalidValue(kind, text[:20] + "...", why=f"must be {limit} characters or fewer")
    return text


def optional_text(kind: str, value: str, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidValue(kind, text[:20] + "...", why=f"must be {limit} characters or fewer")
    return text
