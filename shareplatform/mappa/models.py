"""MAPPA decision log: meetings, disclosures, decisions, actions, break-outs.

Every text field is sealed (the access layer alone opens it). Decisions, actions, status rows and
break-outs are append-only: the ORM refuses to flush an UPDATE or DELETE of them, and any change
made behind the application's back fails the content hash or the signature on the next read.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..crypto.sealed import Sealed
from ..db import Base, new_id, utcnow
from ..domain.errors import NotPermitted


class MappaMeeting(Sealed, Base):
    """A meeting on a case and its open part (OFFICIAL-SENSITIVE minutes)."""

    __tablename__ = "mappa_meetings"
    __sealed__ = ("open_minutes_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    meeting_type: Mapped[str] = mapped_column(String(16))
    held_on: Mapped[date] = mapped_column(Date)
    chair_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    co_chair_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    next_review: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    open_minutes_ct: Mapped[bytes] = mapped_column(LargeBinary)


class MeetingSupersession(Sealed, Base):
    """A meeting corrected (by a replacement meeting) or withdrawn, with the reason (OFFICIAL-
    SENSITIVE, like the open part). The original row stays as it was: this row marks it.

    Which meeting replaces the original (or none: withdrawn) decides what readers are shown, so it
    is stamped with the other facts: re-pointed or cleared in the database, the row fails its
    check and the meetings it names are shown with an integrity marker
    (shareplatform/mappa/meetings.py `_supersessions`)."""

    __tablename__ = "mappa_meeting_supersessions"
    __sealed__ = ("reason_ct",)
    __facts__ = (*Sealed.__facts__, "replacement_id")  # type: ignore[assignment]
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mappa_meetings.id"), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    replacement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mappa_meetings.id"), unique=True
    )  # None: withdrawn
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)


class MeetingAttendee(Base):
    __tablename__ = "mappa_meeting_attendees"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mappa_meetings.id"), index=True)
    agency: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120), default="")
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closed_part: Mapped[bool] = mapped_column(Boolean, default=False)


class MeetingClosedPart(Sealed, Base):
    """The closed part of a meeting: SECRET, for corridor managers on the panel only."""

    __tablename__ = "mappa_closed_parts"
    __sealed__ = ("minutes_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mappa_meetings.id"), unique=True)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    minutes_ct: Mapped[bytes] = mapped_column(LargeBinary)


class Disclosure(Sealed, Base):
    """The disclosure event (who disclosed what reference to whom, when): not the intelligence."""

    __tablename__ = "mappa_disclosures"
    __sealed__ = ("reference_ct", "handling_ct", "summary_ct", "originator_detail_ct")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mappa_meetings.id"))
    originator: Mapped[str] = mapped_column(String(24))
    received_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reference_ct: Mapped[bytes] = mapped_column(LargeBinary)
    handling_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    summary_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    originator_detail_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


decision_disclosures = Table(
    "mappa_decision_disclosures",
    Base.metadata,
    Column("decision_id", ForeignKey("mappa_decisions.id"), primary_key=True),
    Column("disclosure_id", ForeignKey("mappa_disclosures.id"), primary_key=True),
)


class MappaDecision(Sealed, Base):
    """A signed, immutable decision. A correction is a new row superseding this one."""

    __tablename__ = "mappa_decisions"
    __sealed__ = (
        "decision_ct",
        "rationale_ct",
        "options_ct",
        "level_rationale_ct",
        "correction_reason_ct",
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mappa_meetings.id"), index=True)
    decided_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    agreed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    level: Mapped[int | None] = mapped_column(Integer)
    level_change_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mappa_level_changes.id"))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mappa_decisions.id"), unique=True
    )
    signed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(64))
    signer_role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    decision_ct: Mapped[bytes] = mapped_column(LargeBinary)
    rationale_ct: Mapped[bytes] = mapped_column(LargeBinary)
    options_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    level_rationale_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    correction_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class MappaAction(Sealed, Base):
    """An agreed action of a decision, at the decision's label. Its hash is in the decision's."""

    __tablename__ = "mappa_actions"
    __sealed__ = ("description_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mappa_decisions.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    owner_agency: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    description_ct: Mapped[bytes] = mapped_column(LargeBinary)


class ActionStatus(Sealed, Base):
    """One step of an action's status history (append-only), with a note at OFFICIAL-SENSITIVE."""

    __tablename__ = "mappa_action_status"
    __sealed__ = ("note_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mappa_actions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (
        UniqueConstraint("action_id", "position", name="uq_mappa_action_status_step"),
    )


class Breakout(Sealed, Base):
    """A sanitised action released at OFFICIAL-SENSITIVE or below, approved by the chair."""

    __tablename__ = "mappa_breakouts"
    __sealed__ = ("text_ct", "consent_ct")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mappa_actions.id"), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    approved_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime]
    orcon_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    text_ct: Mapped[bytes] = mapped_column(LargeBinary)
    consent_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


IMMUTABLE = (
    MappaMeeting,
    MeetingClosedPart,
    Disclosure,
    MappaDecision,
    MappaAction,
    ActionStatus,
    Breakout,
    MeetingAttendee,
    MeetingSupersession,
)


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context: object, _instances: object) -> None:
    """The decision log is append-only: no UPDATE or DELETE path exists through the ORM."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, IMMUTABLE) and (obj in session.deleted or session.is_modified(obj)):
            raise NotPermitted(
                "MAPPA records cannot be changed or deleted: record a correction instead."
            )
