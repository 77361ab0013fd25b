"""Sealing and opening rows through the vault: the only holder of the vault's grant minter.

The Sealer is built once by the composition root and shared by the two capabilities that may
seal or open: the access layer (shareplatform/access/kernel.py: for users, after a decision) and
the system writer (shareplatform/access/system.py: for imports and seeding, no decision). Both
audit first and pass the audit entry's sequence number, which the grant records. Nothing else
holds a Sealer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..crypto import keyring
from ..crypto.envelope import Binding, IntegrityError
from ..crypto.models import DataKey
from ..crypto.sealed import Sealed, plain_name
from ..crypto.vault import Grant, SealedField, Vault
from ..db import utcnow
from ..domain.labels import Label

Plain = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class StoredKey:
    level: str
    kek_version: int
    wrapped: bytes | None


class Sealer:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._minter = vault.take_minter()

    # -- opening ----------------------------------------------------------------------------------
    @staticmethod
    def data_keys(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, StoredKey]:
        """Wrapped data keys by id, as plain tuples (no ORM identity map work on the hot path)."""
        table = DataKey.__table__
        keys: dict[uuid.UUID, StoredKey] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            stmt = select(table.c.id, table.c.level, table.c.kek_version, table.c.wrapped).where(
                table.c.id.in_(id_list[start : start + 500])
            )
            for key_id, level, version, wrapped in session.execute(stmt):
                keys[key_id] = StoredKey(level, version, wrapped)
        return keys

    def open(
        self,
        session: Session,
        actor: str,
        rows: Sequence[Sealed],
        seq: int,
        keys: dict[uuid.UUID, StoredKey] | None = None,
    ) -> list[Plain | None]:
        """Plaintext of every sealed field of `rows`, under one grant for audit entry `seq`;
        None for a row whose content does not open under its binding (tampered)."""
        if not rows:
            return []
        if keys is None:
            keys = self.data_keys(session, {r.data_key_id for r in rows})
        scope = frozenset((r.__tablename__, str(r.id)) for r in rows)  # type: ignore[attr-defined]
        grant = self._minter.mint(actor, "read", scope, seq)
        out: list[Plain | None] = []
        for row in rows:
            key = keys[row.data_key_id]
            label = row.label.canonical()
            plain: Plain = {plain_name(c): None for c in row.__sealed__}
            items = [
                SealedField(
                    Binding(row.__tablename__, column, str(row.id), label, str(row.data_key_id)),  # type: ignore[attr-defined]
                    key.level,
                    key.kek_version,
                    key.wrapped,
                    getattr(row, column),
                )
                for column in row.__sealed__
                if getattr(row, column) is not None
            ]
            if items:  # one unwrap per row, however many sealed fields it has
                try:
                    texts = self._vault.open_row(grant, items)
                except IntegrityError:
                    out.append(None)
                    continue
                for item, text in zip(items, texts, strict=True):
                    plain[plain_name(item.binding.column)] = text
            out.append(plain)
        return out

    # -- sealing ----------------------------------------------------------------------------------
    def seal_rows(
        self, session: Session, actor: str, items: Sequence[tuple[Sealed, Plain]], seq: int
    ) -> None:
        """Seal each row under a new data key of its own; add key and row to the session."""
        for row, _ in items:
            if row.id is None:
                row.id = uuid.uuid4()
        scope = frozenset((r.__tablename__, str(r.id)) for r, _ in items)  # type: ignore[attr-defined]
        grant = self._minter.mint(actor, "write", scope, seq)
        for row, plain in items:
            key_row, sealed = self._seal_fields(
                session,
                grant,
                row.__tablename__,  # type: ignore[attr-defined]
                row.id,
                row.label,
                row.__sealed__,
                plain,
            )
            key = DataKey(**key_row)
            session.add(key)
            row.data_key = key
            row.data_key_id = key.id  # now, not at flush: the row's fact stamp covers it
            for column, value in sealed.items():
                setattr(row, column, value)
            session.add(row)

    def seal_bulk(
        self,
        session: Session,
        actor: str,
        model: type[Any],
        rows: list[dict[str, object]],
        plaintexts: list[Plain],
        seq: int,
    ) -> list[dict[str, object]]:
        """Seal row dicts for a bulk insert: fills each row's sealed columns and data_key_id, and
        returns the data key rows to insert first."""
        table = model.__tablename__
        grant = self._minter.mint(
            actor, "write", frozenset((table, str(r["id"])) for r in rows), seq
        )
        key_rows = []
        for row, plain in zip(rows, plaintexts, strict=True):
            label = Label.of(row["classification"], str(row.get("caveats") or ""))
            key_row, sealed = self._seal_fields(
                session,
                grant,
                table,
                row["id"],  # type: ignore[arg-type]
                label,
                model.__sealed__,
                plain,
            )
            row.update(sealed)
            row["data_key_id"] = key_row["id"]
            key_rows.append(key_row)
        return key_rows

    def _seal_fields(
        self,
        session: Session,
        grant: Grant,
        table: str,
        row_id: uuid.UUID,
        label: Label,
        columns: Sequence[str],
        plaintext: Plain,
    ) -> tuple[dict[str, object], dict[str, bytes | None]]:
        level = label.classification.marking
        key = self._vault.new_data_key(label, keyring.version_for_write(session, level))
        canonical = label.canonical()
        sealed: dict[str, bytes | None] = {}
        for column in columns:
            value = plaintext.get(plain_name(column))
            if value is None:
                sealed[column] = None
                continue
            binding = Binding(table, column, str(row_id), canonical, str(key.key_id))
            sealed[column] = self._vault.seal(grant, key, binding, value)
        key_row = {
            "id": key.key_id,
            "level": key.level,
            "kek_version": key.kek_version,
            "wrapped": key.wrapped,
            "created_at": utcnow(),
        }
        return key_row, sealed
