"""Envelope encryption: AES-256-GCM under a per-row data key, bound to where it is stored.

The associated data binds a ciphertext to its format version, table, column, row id, label and
data key id, with a length-prefixed canonical encoding. Moving a ciphertext to another row or
column, or relabelling its row in the database, makes decryption fail; it never yields plaintext.
"""

from __future__ import annotations

import os
import struct
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
        parts = (str(FORMAT_VERSION), self.table, self.column, self.row_id, self.label, self.key_id)
        out = bytearray(b"SPAD")
        for part in parts:
            raw = part.encode()
            out += struct.pack(">I", len(raw)) + raw
        return bytes(out)


def seal(dek: bytes, binding: Binding, plaintext: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    body = AESGCM(dek).encrypt(nonce, plaintext.encode(), binding.associated_data())
    return bytes([FORMAT_VERSION]) + nonce + body


def open_sealed(dek: bytes, binding: Binding, sealed: bytes) -> str:
    if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[0] != FORMAT_VERSION:
        raise IntegrityError(f"unknown ciphertext format in {binding.table}.{binding.column}")
    nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    try:
        return AESGCM(dek).decrypt(nonce, body, binding.associated_data()).decode()
    except InvalidTag:
        raise IntegrityError(
            f"integrity check failed for {binding.table}.{binding.column} row {binding.row_id}"
        ) from None
