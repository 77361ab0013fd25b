"""Notifications: who is told what happened, as ids and the kind of event only.

Nothing readable is stored: the title is built when the recipient opens the list, through the
access layer, and an item the recipient may no longer see is left out (shareplatform/notifications/
services.py). So a notification row needs no seal: it says no more than the ids of objects whose
every read is decided again.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, new_id, utcnow


class Notification(Base):
    __tablename__ = "notifications"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # services.Kinds
    object_id: Mapped[uuid.UUID] = mapped_column()  # the record, action, grant or user
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_notifications_recipient", "recipient_id", "created_at"),
        Index("ix_notifications_object", "object_id", "kind"),
    )
