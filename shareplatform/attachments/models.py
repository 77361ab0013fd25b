"""Attachments: files on a record or a MAPPA decision, each with its own label (never lower than
its parent's). The listing row seals the file's name; the content row seals the name again and the
file itself, so that a listing never opens file contents. Neither is ever changed or deleted."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..crypto.sealed import Sealed
from ..db import Base, new_id, utcnow
from ..domain.errors import NotPermitted


class Attachment(Sealed, Base):
    """A file attached to exactly one record or one MAPPA decision."""

    __tablename__ = "attachments"
    __sealed__ = ("filename_ct",)
    # the parent decides who may see the file: its ids (and the case, decision_id, in
    # Sealed.__facts__) are facts, stamped like the label
    __facts__ = (*Sealed.__facts__, "record_id", "parent_kind", "file_type")  # type: ignore[assignment]
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    parent_kind: Mapped[str] = mapped_column(String(16))  # "record" or "decision"
    record_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.id"), index=True)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mappa_decisions.id"), index=True
    )
    file_type: Mapped[str] = mapped_column(String(8))  # pdf, png, jpeg, docx, xlsx
    size: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    filename_ct: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        CheckConstraint("(record_id IS NULL) <> (decision_id IS NULL)", name="one_parent"),
    )


class AttachmentContent(Sealed, Base):
    """The sealed bytes of one attachment (base64 inside the seal), at the attachment's label."""

    __tablename__ = "attachment_contents"
    __sealed__ = ("filename_ct", "content_ct")
    __facts__ = (*Sealed.__facts__, "attachment_id")  # type: ignore[assignment]
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    attachment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attachments.id"), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    filename_ct: Mapped[bytes] = mapped_column(LargeBinary)
    content_ct: Mapped[bytes] = mapped_column(LargeBinary)


@event.listens_for(Session, "before_flush")
def _never_changed(session: Session, _context: object, _instances: object) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, (Attachment, AttachmentContent)) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise NotPermitted("Attachments cannot be changed or deleted: attach a new file.")
