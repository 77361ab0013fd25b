"""Envelope encryption: AES-256-GCM under a per-row data key, bound to where it is stored.

The associated data binds a ciphertext to its format version, table, column, row id, label and
data key id, with a length-prefixed canonical encoding. Moving a ciphertext to another row or
column, or relabelling its row in the database, makes decryption fail; it never yields plaintext.
"""

from __future__ import annotations

import functools
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
_NONCE_BYTES = 12


class IntegrityError(Exception):
    """A ciphertext does not match its place, label or key: tampered with, or the wrong key."""


@dataclass(frozen=True, slots=True)
class Binding:
    """Where a ciphertext lives. Every field is part of the associated data."""

    table: str
    column: str
    row_id: str
    label: str  # Label.canonical()
    key_id: str  # the data key's id: stable across KEK rotation

    def associated_data(self) -> bytes:
        return associated_data(self.table, self.column, self.row_id, self.label, self.key_id)


def _part(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">I", len(raw)) + raw


_PREFIX = b"SPAD" + _part(str(FORMAT_VERSION))


def associated_data(table: str, column: str, row_id: str, label: str, key_id: str) -> bytes:
    """The length-prefixed canonical encoding of (version, table, column, row id, label, key)."""
    return _PREFIX + _part(table) + _part(column) + _part(row_id) + _part(label) + _part(key_id)


@functools.lru_cache(maxsize=1024)
def _name_part(text: str) -> bytes:
    """`_part` of a table, column or label: few distinct values, each encoded once."""
    return _part(text)


_ID_LENGTH = struct.pack(">I", 36)


def _id_part(text: str) -> bytes:
    """`_part` of a row or key id (a 36-character UUID, so its length prefix is fixed)."""
    raw = text.encode()
    return _ID_LENGTH + raw if len(raw) == 36 else _part(text)


def _row_data(table: str, row_id: str, label: str, key_id: str) -> tuple[bytes, bytes]:
    """The parts of the associated data every field of one row shares: before and after the
    column name."""
    return _PREFIX + _name_part(table), _id_part(row_id) + _name_part(label) + _id_part(key_id)


def seal(dek: bytes, binding: Binding, plaintext: str) -> bytes:
    return _seal_with(AESGCM(dek), binding.associated_data(), plaintext)


def _seal_with(aead: AESGCM, ad: bytes, plaintext: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return bytes([FORMAT_VERSION]) + nonce + aead.encrypt(nonce, plaintext.encode(), ad)


def open_sealed(dek: bytes, binding: Binding, sealed: bytes) -> str:
    b = binding
    return _open_with(AESGCM(dek), b.associated_data(), sealed, b.table, b.column, b.row_id)


_BODY = 1 + _NONCE_BYTES  # the format byte and the nonce come first
_SHORTEST = _BODY + 16  # and the GCM tag last


def _open_with(aead: AESGCM, ad: bytes, sealed: bytes, table: str, column: str, row_id: str) -> str:
    if len(sealed) < _SHORTEST or sealed[0] != FORMAT_VERSION:
        raise IntegrityError(f"unknown ciphertext format in {table}.{column}")
    try:
        return aead.decrypt(sealed[1:_BODY], sealed[_BODY:], ad).decode()
    except InvalidTag:
        raise IntegrityError(f"integrity check failed for {table}.{column} row {row_id}") from None


def seal_fields(
    dek: bytes, table: str, row_id: str, label: str, key_id: str, values: dict[str, str]
) -> dict[str, bytes]:
    """Seal several fields of one row under its data key: one AES context for all of them, each
    bound to its own column."""
    aead = AESGCM(dek)
    head, tail = _row_data(table, row_id, label, key_id)
    return {
        column: _seal_with(aead, head + _name_part(column) + tail, text)
        for column, text in values.items()
    }


def open_fields(
    dek: bytes,
    table: str,
    row_id: str,
    label: str,
    key_id: str,
    fields: Sequence[tuple[str, bytes]],
) -> list[str]:
    """Open several fields (column, ciphertext) of one row sealed by `seal_fields` or `seal`."""
    aead = AESGCM(dek)
    head, tail = _row_data(table, row_id, label, key_id)
    return [
        _open_with(aead, head + _name_part(column) + tail, sealed, table, column, row_id)
        for column, sealed in fields
    ]
