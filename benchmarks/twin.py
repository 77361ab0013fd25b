"""Plaintext twin tables: the same rows without labels, keys or ciphertext, in the same database.

They exist only in benchmark databases (created here, never by the migrations) and give each
secure path its no-security baseline: same queries, same row shapes, same template.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, MetaData, String, Text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shareplatform.db import UTCDateTime, utcnow


class TwinBase(DeclarativeBase):
    metadata = MetaData()
    type_annotation_map = {datetime: UTCDateTime()}


class PlainNominal(TwinBase):
    __tablename__ = "bench_plain_nominals"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    classification: Mapped[str] = mapped_column(String(24))
    names: Mapped[str] = mapped_column(Text)
    dob: Mapped[str | None] = mapped_column(String(10))
    identifiers: Mapped[str] = mapped_column(Text)


class PlainLevelChange(TwinBase):
    __tablename__ = "bench_plain_level_changes"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)
    level: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    rationale: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlainRecord(TwinBase):
    """records, with title/body/correction_reason in plaintext and no data key."""

    __tablename__ = "bench_plain_records"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID]
    record_type: Mapped[str] = mapped_column(String(40))
    originating_agency: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[uuid.UUID]
    occurred_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    classification: Mapped[str] = mapped_column(String(24))
    caveats: Mapped[str] = mapped_column(String(80), default="")
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    correction_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_bench_plain_records_case_time", "case_id", "occurred_on"),
        Index("ix_bench_plain_records_case_label", "case_id", "classification"),
    )


class PlainAttendee(TwinBase):
    __tablename__ = "bench_plain_attendees"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    agency: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[uuid.UUID | None]


def create(engine: Engine) -> None:
    TwinBase.metadata.create_all(engine)
