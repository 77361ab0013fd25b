"""Stored key metadata: KEK versions per level, the wrapped data keys, and the processes that
report which KEK versions they hold."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, new_id, utcnow


class KekState(StrEnum):
    """A KEK version's life: one `current` per level wraps new data keys; `active` versions only
    unwrap (until rotation re-wraps their keys); `retiring` means destruction was decided and may
    have been interrupted (re-running `keys retire` completes it); `retired` means destroyed."""

    CURRENT = "current"
    ACTIVE = "active"
    RETIRING = "retiring"
    RETIRED = "retired"


class KekVersion(Base):
    __tablename__ = "kek_versions"
    level: Mapped[str] = mapped_column(String(24), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_value: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(12), default=KekState.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class DataKey(Base):
    """A per-row data key, wrapped by its level's KEK. NULL `wrapped` means shredded.

    A database trigger (migration 0006) refuses a data key wrapped under a KEK version that is
    not its level's current one.
    """

    __tablename__ = "data_keys"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    level: Mapped[str] = mapped_column(String(24))
    kek_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    shredded_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_data_keys_rotation", "level", "kek_version", "id"),
        Index(
            "ix_data_keys_shredded",
            "id",
            sqlite_where=text("wrapped IS NULL"),
            postgresql_where=text("wrapped IS NULL"),
        ),
    )


class KeyHolder(Base):
    """A running process's report of the current KEK version of each level it last saw.

    `keys retire` refuses while an unexpired report still names the version as current.
    """

    __tablename__ = "key_holders"
    process: Mapped[str] = mapped_column(String(80), primary_key=True)
    host: Mapped[str] = mapped_column(String(120))
    pid: Mapped[int] = mapped_column(Integer)
    current: Mapped[str] = mapped_column(String(200))  # "LEVEL:version,..."
    seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
