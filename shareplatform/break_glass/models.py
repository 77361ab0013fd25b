"""Break-glass grants: emergency access to one case, time-limited and reviewed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto.attested import Attested
from ..db import Base, new_id, utcnow


class BreakGlass(Attested, Base):
    """Emergency access to one case's OFFICIAL-SENSITIVE records, time-limited and reviewed."""

    __tablename__ = "break_glass"
    __facts__ = ("user_id", "case_id", "started_at", "expires_at")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
