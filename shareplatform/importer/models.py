"""What the importer remembers: which source-system record became which platform row.

The source id is stored only as a blind index (HMAC), like every other identifier, so a
re-import of the same file matches what it already brought in and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow


class ImportRef(Base):
    __tablename__ = "import_refs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # "record"
    source_system: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    target_id: Mapped[uuid.UUID] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "digest", name="uq_import_refs_kind_digest"),)
