"""Records: contacts, assessments, enquiries, plans, minutes. Never edited in place."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto.sealed import Sealed
from ..db import Base, new_id, utcnow


class Record(Sealed, Base):
    __tablename__ = "records"
    __sealed__ = ("title_ct", "body_ct", "correction_reason_ct")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    record_type: Mapped[str] = mapped_column(String(40))
    originating_agency: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    occurred_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]  # ORCON released by its originator
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"), unique=True)
    correction_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    source_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"))  # break-out of

    __table_args__ = (
        Index("ix_records_case_time", "case_id", "occurred_on"),
        Index("ix_records_case_label", "case_id", "classification"),
    )


class RecordAttendee(Base):
    """Agencies and people present at a contact: a joint visit is one record with both agencies."""

    __tablename__ = "record_attendees"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"), index=True)
    agency: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
