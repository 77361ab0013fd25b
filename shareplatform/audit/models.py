"""The append-only audit log (a Merkle tree over each entry's canonical bytes), its signed
checkpoints and the index of who was shown which object."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class AuditEntry(Base):
    """`body` is what the tree hashes; the other columns are a query index over it, and
    verification checks that they agree with the body."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), default="")
    case_id: Mapped[str] = mapped_column(String(64), default="")
    label: Mapped[str] = mapped_column(String(24))  # classification of what the entry describes
    outcome: Mapped[str] = mapped_column(String(8))  # allow, deny, done, fail
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    body: Mapped[bytes] = mapped_column(LargeBinary)  # chain.encode of FIELDS

    __table_args__ = (
        Index("ix_audit_object", "object_id"),
        Index("ix_audit_case", "case_id"),
    )


class AuditHead(Base):
    """The tree's size and frontier. Updating it first serialises writers: one tree, no forks."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)  # the tree's size
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # merkle.pack
    checkpoint_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoint_at: Mapped[datetime | None]


class AuditCheckpoint(Base):
    """A signed tree head: the tree of the first `seq` entries has `root`."""

    __tablename__ = "audit_checkpoints"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary)  # so verification can resume here


class AuditView(Base):
    """One row per object an allowed read showed, written with its entry: "who has seen this"."""

    __tablename__ = "audit_views"
    object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    actor_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime]
