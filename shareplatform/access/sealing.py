"""Sealing and opening rows through the vault: the only holder of the vault's grant minter.

The Sealer is built once by the composition root and shared by the two capabilities that may
seal or open: the access layer (shareplatform/access/kernel.py: for users, after a decision) and
the system writer (shareplatform/access/system.py: for imports and seeding, no decision). Both
audit first and pass the audit entry's sequence number, which the grant records. Nothing else
holds a Sealer.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import Session

from ..crypto import keyring
from ..crypto.attested import attested_columns, attestor_of, failed
from ..crypto.envelope import IntegrityError
from ..crypto.models import DataKey
from ..crypto.sealed import Sealed, plain_name
from ..crypto.vault import Grant, SealedRow, Vault
from ..db import utcnow
from ..domain.labels import Label

Plain = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class StoredKey:
    level: str
    kek_version: int
    wrapped: bytes | None


class LoadedRow:
    """A sealed row read through Core rather than the ORM, for display only: its mapped columns
    as plain attributes, the kernel's view of it (`label`, `facts_intact`), nothing to flush.
    The hot read path (AccessLayer.read_selected) uses it: no identity map, no instrumentation."""

    __tablename__: ClassVar[str]
    __sealed__: ClassVar[tuple[str, ...]]

    @property
    def facts_intact(self) -> bool:
        return bool(self.__dict__["_facts_intact"])

    @property
    def label(self) -> Label:
        return Label.of(self.__dict__["classification"], self.__dict__["caveats"])


_LOADED: dict[type[Any], tuple[type[LoadedRow], tuple[str, ...]]] = {}


def _loaded_class(model: type[Any]) -> tuple[type[LoadedRow], tuple[str, ...]]:
    """The LoadedRow class of `model`, and the attribute names of its columns in select order."""
    found = _LOADED.get(model)
    if found is None:
        cls = type(
            f"Loaded{model.__name__}",
            (LoadedRow,),
            {"__tablename__": model.__tablename__, "__sealed__": model.__sealed__},
        )
        found = _LOADED[model] = (cls, tuple(a.key for a in inspect(model).column_attrs))
    return found


def load_rows(
    session: Session, stmt: Select[Any], model: type[Any]
) -> tuple[list[Any], dict[uuid.UUID, StoredKey]]:
    """Run `stmt` (a select of `model`, filtered and ordered) as a Core query of its columns and
    each row's wrapped data key; check every row's fact stamp (a forged one is marked, as an ORM
    load marks it: shareplatform/crypto/attested.py)."""
    cls, attrs = _loaded_class(model)
    core = with_stored_keys(stmt.with_only_columns(*(getattr(model, a) for a in attrs)), model)
    facts = attested_columns(model)
    attestor = attestor_of(session)
    width = len(attrs)
    rows: list[Any] = []
    keys: dict[uuid.UUID, StoredKey] = {}
    new = object.__new__
    for found in session.execute(core):
        row = new(cls)
        values = row.__dict__
        values.update(zip(attrs, found, strict=False))
        intact = attestor.check_values(model, [values[f] for f in facts], values["facts_mac"])
        values["_facts_intact"] = intact
        if not intact:
            failed(session, model.__tablename__, values[facts[0]])
        keys[values["data_key_id"]] = StoredKey(*found[width:])
        rows.append(row)
    return rows, keys


def with_stored_keys(stmt: Select[Any], model: type[Any]) -> Select[Any]:
    """`stmt` (a select of `model`) with each row's wrapped data key as three more columns."""
    keys = DataKey.__table__
    return stmt.join(keys, keys.c.id == model.data_key_id).add_columns(
        keys.c.level, keys.c.kek_version, keys.c.wrapped
    )


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
        ids: list[str] | None = None,
    ) -> list[Plain | None]:
        """Plaintext of every sealed field of `rows`, under one grant for audit entry `seq`;
        None for a row whose content does not open under its binding (tampered). `ids`: the
        rows' ids as text, when the caller has them.

        Each row costs one grant check, one unwrap and one AES context, however many fields."""
        if not rows:
            return []
        if keys is None:
            keys = self.data_keys(session, {r.data_key_id for r in rows})
        if ids is None:
            ids = [str(r.id) for r in rows]
        tables = [r.__tablename__ for r in rows]  # type: ignore[attr-defined]
        grant = self._minter.mint(actor, "read", frozenset(zip(tables, ids, strict=True)), seq)
        open_row = self._vault.open_sealed_row
        out: list[Plain | None] = []
        for row, row_id, table in zip(rows, ids, tables, strict=True):
            key = keys[row.data_key_id]
            columns = row.__sealed__
            loaded = row.__dict__  # loaded columns live here; anything else via the attribute
            fields = tuple(
                (c, v)
                for c in columns
                if (v := loaded[c] if c in loaded else getattr(row, c)) is not None
            )
            names = _plain_names(columns)
            plain: Plain = dict.fromkeys(names.values())
            if fields:
                sealed = SealedRow(
                    table,
                    row_id,
                    _canonical(row),
                    str(row.data_key_id),
                    key.level,
                    key.kek_version,
                    key.wrapped,
                    fields,
                )
                try:
                    texts = open_row(grant, sealed)
                except IntegrityError:
                    out.append(None)
                    continue
                for (column, _), text in zip(fields, texts, strict=True):
                    plain[names[column]] = text
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
        values = {c: v for c in columns if (v := plaintext.get(plain_name(c))) is not None}
        sealed: dict[str, bytes | None] = dict.fromkeys(columns)
        sealed.update(
            self._vault.seal_row(grant, key, table, str(row_id), label.canonical(), values)
        )
        key_row = {
            "id": key.key_id,
            "level": key.level,
            "kek_version": key.kek_version,
            "wrapped": key.wrapped,
            "created_at": utcnow(),
        }
        return key_row, sealed


@functools.lru_cache(maxsize=64)
def _plain_names(columns: tuple[str, ...]) -> dict[str, str]:
    return {c: plain_name(c) for c in columns}


def _canonical(row: Sealed) -> str:
    classification, caveats = row.classification, row.caveats
    if isinstance(classification, str) and isinstance(caveats, str):
        return canonical_label(classification, caveats)
    return row.label.canonical()  # a row built in this request, not yet stored


@functools.lru_cache(maxsize=256)
def canonical_label(classification: str, caveats: str) -> str:
    """The canonical label of a stored (classification, caveats) pair, as bound into every
    ciphertext's associated data."""
    return Label.of(classification, caveats).canonical()
