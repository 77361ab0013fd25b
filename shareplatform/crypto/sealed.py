"""The shape every table holding encrypted fields shares: a label, a data key, sealed columns.

Sealed columns end in `_ct` and are listed in `__sealed__`. Only the access layer reads or writes
them (through the vault, with a grant); everything else sees plaintext read models.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..domain.labels import Classification, Label
from .attested import Attested
from .models import DataKey


class Marking(TypeDecorator[str]):
    """A classification stored as its marking ("OFFICIAL-SENSITIVE"). Accepts a Classification or
    a valid marking, so a Classification can never be stored as its number."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: object, dialect: object) -> str | None:
        return None if value is None else Classification.parse(value).marking


class Sealed(Attested):
    __sealed__: ClassVar[tuple[str, ...]] = ()
    # The facts access decisions read, wherever a sealed table has them (stamped and checked by
    # shareplatform/crypto/attested.py; a table lacking a column simply has no such fact).
    __facts__ = (
        "classification",
        "caveats",
        "data_key_id",
        "case_id",
        "meeting_id",
        "decision_id",
        "action_id",
        "record_type",
        "originating_agency",
        "author_id",
        "owner_agency",
        "owner_id",
        "released_at",
        "supersedes_id",
        "source_id",
        "meeting_type",
        "held_on",
        "chair_id",
        "decided_by_id",
        "received_by_id",
        "approved_by_id",
        "orcon_consent",
        "status",
        "position",
        "by_id",
        "audit_seq",
    )

    id: Mapped[uuid.UUID]
    classification: Mapped[str] = mapped_column(Marking())
    caveats: Mapped[str] = mapped_column(String(80), default="")

    @declared_attr
    def data_key_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("data_keys.id"), index=True)

    @declared_attr
    def data_key(cls) -> Mapped[DataKey]:
        # only so that the unit of work inserts the data key before the row that uses it
        return relationship(DataKey, lazy="raise_on_sql", foreign_keys=[cls.data_key_id])  # type: ignore[list-item]

    @property
    def label(self) -> Label:
        return Label.of(self.classification, self.caveats)


def plain_name(column: str) -> str:
    return column.removesuffix("_ct")
