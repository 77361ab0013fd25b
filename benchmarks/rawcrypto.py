"""The raw crypto a sealed row costs at best, for the floors of the read, write and crypto measures.

Per row: one AES key wrap (RFC 3394, as shareplatform/crypto/keys.py does) of a fresh 256-bit data
key, or its unwrap, and one AES-256-GCM call per sealed field with associated data of the real
length. The material is the benchmark's own (a KEK made here, fresh data keys, random plaintext of
the stored plaintext's length): the floor needs the same work, never the platform's keys.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap
from sqlalchemy import select
from sqlalchemy.orm import Session

from shareplatform.crypto.envelope import Binding
from shareplatform.domain.labels import Label

_SEALED_OVERHEAD = 1 + 12 + 16  # format byte, nonce, tag (shareplatform/crypto/envelope.py)


@dataclass(frozen=True)
class Shape:
    """One row to seal: the associated data and plaintext of each of its sealed fields."""

    fields: tuple[tuple[bytes, bytes], ...]  # (associated data, plaintext)


@dataclass(frozen=True)
class Sealed:
    """One sealed row: its wrapped data key and (nonce, ciphertext, associated data) per field."""

    wrapped: bytes
    fields: tuple[tuple[bytes, bytes, bytes], ...]


class RawCrypto:
    """The bare primitives under one benchmark KEK."""

    def __init__(self) -> None:
        self.kek = os.urandom(32)

    def seal(self, shapes: Sequence[Shape]) -> list[Sealed]:
        """A new data key per row, wrapped, and each field encrypted under it."""
        out = []
        for shape in shapes:
            dek = os.urandom(32)
            aes = AESGCM(dek)
            fields = []
            for aad, plain in shape.fields:
                nonce = os.urandom(12)
                fields.append((nonce, aes.encrypt(nonce, plain, aad), aad))
            out.append(Sealed(aes_key_wrap(self.kek, dek), tuple(fields)))
        return out

    def open(self, rows: Sequence[Sealed]) -> int:
        """Unwrap each row's data key and decrypt its fields; the bytes of plaintext."""
        total = 0
        for row in rows:
            aes = AESGCM(aes_key_unwrap(self.kek, row.wrapped))
            for nonce, ciphertext, aad in row.fields:
                total += len(aes.decrypt(nonce, ciphertext, aad))
        return total

    def timed_seal(self, shapes: Sequence[Shape]) -> float:
        start = time.perf_counter()
        self.seal(shapes)
        return time.perf_counter() - start


def shape_of(table: str, row_id: str, label: str, key_id: str, fields: dict[str, str]) -> Shape:
    """The fields a row would seal, with their real associated data."""
    return Shape(
        tuple(
            (Binding(table, column, row_id, label, key_id).associated_data(), text.encode())
            for column, text in fields.items()
        )
    )


def stored_shapes(session: Session, model: type, ids: Sequence[object]) -> list[Shape]:
    """The shapes of stored rows of a sealed model: real bindings, plaintext of the stored length
    (read with Core, so nothing goes through the access layer or the vault)."""
    table = model.__table__  # type: ignore[attr-defined]
    columns = [table.c[name] for name in model.__sealed__]  # type: ignore[attr-defined]
    stmt = select(
        table.c.id, table.c.classification, table.c.caveats, table.c.data_key_id, *columns
    ).where(table.c.id.in_(list(ids)))
    shapes = []
    for row in session.execute(stmt):
        label = Label.of(row.classification, row.caveats).canonical()
        fields = {
            column.name: "x" * (len(value) - _SEALED_OVERHEAD)
            for column, value in zip(columns, row[4:], strict=True)
            if value is not None
        }
        shapes.append(shape_of(table.name, str(row.id), label, str(row.data_key_id), fields))
    return shapes


def import_shapes(rows: Sequence[Mapping[str, object]]) -> list[Shape]:
    """What sealing plaintext twin rows (with "title" and "body") needs: a data key each."""
    return [
        shape_of(
            "records",
            str(row["id"]),
            Label.of(str(row["classification"]), str(row["caveats"])).canonical(),
            str(uuid.uuid4()),
            {"title_ct": str(row["title"]), "body_ct": str(row["body"])},
        )
        for row in rows
    ]
