"""Nominals (people), cases, MAPPA level history and case teams."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto.attested import Attested
from ..crypto.sealed import Sealed
from ..db import Base, new_id, utcnow


class Nominal(Sealed, Base):
    """A person managed on the platform. Every identifying field is encrypted under one data key."""

    __tablename__ = "nominals"
    __sealed__ = ("names_ct", "dob_ct", "identifiers_ct")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    names_ct: Mapped[bytes] = mapped_column(
        LargeBinary
    )  # JSON: {"given": .., "family": .., "aliases": [..]}
    dob_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    identifiers_ct: Mapped[bytes] = mapped_column(LargeBinary)  # JSON: {"pnc": .., "cro": .., ...}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NominalIndex(Base):
    """Blind index entries: HMAC of a normalised name or identifier, for exact search."""

    __tablename__ = "nominal_index"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominals.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))

    __table_args__ = (Index("ix_nominal_index_digest", "digest"),)


class Case(Attested, Base):
    __tablename__ = "cases"
    __facts__ = ("reference", "nominal_id", "lead_agency", "nsd_unit", "ct_unit", "phase")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominals.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(16))
    lead_agency: Mapped[str] = mapped_column(String(16))
    nsd_unit: Mapped[str | None] = mapped_column(String(64), index=True)
    ct_unit: Mapped[str | None] = mapped_column(String(64), index=True)
    establishment: Mapped[str | None] = mapped_column(String(120))
    mappa_category: Mapped[int] = mapped_column(Integer, default=4)
    mappa_level: Mapped[int] = mapped_column(Integer, default=3)
    release_date: Mapped[date | None] = mapped_column(Date)
    licence_end: Mapped[date | None] = mapped_column(Date)
    sentence_end: Mapped[date | None] = mapped_column(Date)
    next_review: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MappaLevelChange(Sealed, Base):
    """One change of a case's MAPPA level, with who set it and why (append-only)."""

    __tablename__ = "mappa_level_changes"
    __sealed__ = ("rationale_ct",)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    rationale_ct: Mapped[bytes] = mapped_column(LargeBinary)
    set_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMembership(Attested, Base):
    """Who holds a case, in which capacity, from when to when.

    Panel members sit on its MAPPA panel.
    """

    __tablename__ = "team_memberships"
    __facts__ = ("case_id", "user_id", "capacity", "panel", "lead", "start_date", "end_date")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    capacity: Mapped[str] = mapped_column(String(32))  # the role held on this case (POM, COM, ...)
    panel: Mapped[bool] = mapped_column(Boolean, default=False)
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NominalToken(Base):
    """Search tokens of a nominal (name parts, bounded prefixes, phonetic codes, date of birth),
    each a keyed HMAC like `NominalIndex`: partial and sound-alike search without plaintext.
    What a database reader learns from them: docs/architecture.md, "Search tokens"."""

    __tablename__ = "nominal_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    nominal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nominals.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))

    __table_args__ = (
        Index("ix_nominal_tokens_digest", "digest"),
        Index("ix_nominal_tokens_nominal", "nominal_id"),
    )
