"""Release tables: licence conditions as data, and the handover task list's ticks. Both are
append-only (a change is a new row); free text is sealed like record bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, LargeBinary, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..crypto.sealed import Sealed
from ..db import Base, new_id, utcnow
from ..domain.errors import NotPermitted


class LicenceCondition(Sealed, Base):
    """One version of a licence condition: its type and dates in the clear (the standards count
    them) but stamped with the other facts, so an edit without the keys is detected; its details
    and the reason for a change sealed. A variation or an ending is a new version naming the one
    it replaces in `supersedes_id`; `change` says which (None: the condition as first added)."""

    __tablename__ = "licence_conditions"
    __sealed__ = ("details_ct", "reason_ct")
    __facts__ = (*Sealed.__facts__, "condition_type", "starts_on", "ends_on", "change")  # type: ignore[assignment]
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    condition_type: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("licence_conditions.id"), unique=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    change: Mapped[str | None] = mapped_column(String(16))  # VARIED or ENDED (revision 0015)
    details_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class HandoverTick(Sealed, Base):
    """A handover task ticked (or unticked) by the POM or COM; the latest for a task counts."""

    __tablename__ = "handover_ticks"
    __sealed__ = ("note_ct",)
    # which task, ticked or not, by whom and when (the latest counts): stamped from revision 0015
    __facts__ = (*Sealed.__facts__, "task", "done", "by_role", "created_at")  # type: ignore[assignment]
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    task: Mapped[str] = mapped_column(String(32))
    done: Mapped[bool] = mapped_column(Boolean)
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    by_role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context: object, _instances: object) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, (LicenceCondition, HandoverTick)) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise NotPermitted(
                "Lifecycle records cannot be changed or deleted: record a new entry instead."
            )
