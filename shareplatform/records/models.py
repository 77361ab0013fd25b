"""Records: contacts, assessments, enquiries, plans, minutes. Never edited in place."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
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


class RecordDraft(Sealed, Base):
    """A note being written, saved as its author types (shareplatform/records/writing.py): one
    per author and case, sealed at the form's label, visible to its author alone, deleted when
    the note is posted."""

    __tablename__ = "record_drafts"
    __sealed__ = ("content_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    record_type: Mapped[str] = mapped_column(String(40))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_ct: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        UniqueConstraint("author_id", "case_id", name="uq_record_drafts_author_case"),
    )


class KeptForm(Sealed, Base):
    """A form posted after its session ended, kept for its author to finish after signing in
    again (shareplatform/records/writing.py). Short-lived: housekeeping deletes it once expired."""

    __tablename__ = "kept_forms"
    __sealed__ = ("content_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(40))
    form_path: Mapped[str] = mapped_column(String(200))  # where the author returns to
    kept_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    content_ct: Mapped[bytes] = mapped_column(LargeBinary)


class FormSubmission(Base):
    """A one-time token of a rendered form and the record its first post created: a second post
    with the same token lands on that record instead of posting again."""

    __tablename__ = "form_submissions"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
