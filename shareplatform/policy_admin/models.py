"""Policy versions and draft change sets.

A version is a full snapshot of the rule list as applied (JSON), so any earlier one can be restored
exactly. A change set is a draft: operations over the live policy (add, change, remove a line), or a
whole snapshot to restore. Applying one writes a new version.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, new_id, utcnow


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rules: Mapped[str] = mapped_column(Text)  # JSON list of [ptype, [values...], reason]
    kind: Mapped[str] = mapped_column(String(16))  # baseline, change, restore, import
    description: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    change_set_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("policy_change_sets.id"))
    restored_from: Mapped[int | None] = mapped_column(Integer)
    state_version: Mapped[int] = mapped_column(Integer)  # policy_state.version after this apply
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeSet(Base):
    __tablename__ = "policy_change_sets"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft, applied, discarded
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    restore_of: Mapped[int | None] = mapped_column(Integer)  # a version number to restore whole
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approval_reason: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None]
    approved_digest: Mapped[str | None] = mapped_column(String(64))  # the draft that was approved
    applied_at: Mapped[datetime | None]
    applied_version: Mapped[int | None] = mapped_column(Integer)


class ChangeLine(Base):
    """One operation of a draft. `target`: the live line it changes or removes (its key, JSON)."""

    __tablename__ = "policy_change_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("policy_change_sets.id"), index=True
    )
    op: Mapped[str] = mapped_column(String(8))  # add, change, remove
    target: Mapped[str | None] = mapped_column(Text)
    ptype: Mapped[str | None] = mapped_column(String(4))
    values: Mapped[str | None] = mapped_column(Text)  # JSON list
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
