"""The shape every table holding encrypted fields shares: a label, a data key, sealed columns.

Sealed columns end in `_ct` and are listed in `__sealed__`. Only the access layer reads or writes
them (through the vault, with a grant); everything else sees plaintext read models.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from ..domain.labels import Label
from .models import DataKey


class Sealed:
    __sealed__: ClassVar[tuple[str, ...]] = ()

    id: Mapped[uuid.UUID]
    classification: Mapped[str] = mapped_column(String(24))
    caveats: Mapped[str] = mapped_column(String(80), default="")

    @declared_attr
    def data_key_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(ForeignKey("data_keys.id"), index=True)

    @declared_attr
    def data_key(cls) -> Mapped[DataKey]:  # noqa: N805
        # only so that the unit of work inserts the data key before the row that uses it
        return relationship(DataKey, lazy="raise_on_sql", foreign_keys=[cls.data_key_id])  # type: ignore[list-item]

    @property
    def label(self) -> Label:
        return Label.of(self.classification, self.caveats)


def plain_name(column: str) -> str:
    return column.removesuffix("_ct")
