"""Stored key metadata: KEK versions per level and the wrapped data keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, new_id, utcnow


class KekVersion(Base):
    __tablename__ = "kek_versions"
    level: Mapped[str] = mapped_column(String(24), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_value: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class DataKey(Base):
    """A per-row data key, wrapped by its level's KEK. NULL `wrapped` means shredded."""

    __tablename__ = "data_keys"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    level: Mapped[str] = mapped_column(String(24))
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    shredded_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_data_keys_shredded",
            "id",
            sqlite_where=text("wrapped IS NULL"),
            postgresql_where=text("wrapped IS NULL"),
        ),
    )
