"""The access policy as stored rows, and its version counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto.attested import Attested
from ..db import Base, utcnow


class PolicyRule(Base):
    __tablename__ = "policy_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    position: Mapped[int] = mapped_column(Integer)
    ptype: Mapped[str] = mapped_column(String(4))
    v0: Mapped[str] = mapped_column(String(64), default="")
    v1: Mapped[str] = mapped_column(String(64), default="")
    v2: Mapped[str] = mapped_column(String(64), default="")
    v3: Mapped[str] = mapped_column(String(64), default="")
    v4: Mapped[str] = mapped_column(String(64), default="")
    v5: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class PolicyState(Attested, Base):
    """Bumped in the same transaction as any policy change; workers reload when it moves.

    `rules_digest` is the digest of the rule list the policy service wrote, and the row's stamp
    (shareplatform/crypto/attested.py) binds it to the version: rules edited in the database, or
    a version bumped there, no longer match and the kernel refuses to load them.
    """

    __tablename__ = "policy_state"
    __facts__ = ("version", "rules_digest")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    rules_digest: Mapped[str | None] = mapped_column(String(64))
