"""Signed tree heads: the note a checkpoint signs, its JSON form and its signature check."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import chain


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    size: int
    root: bytes
    at: str  # chain.timestamp of when it was signed
    key_id: str
    signature: bytes

    def note(self) -> bytes:
        return chain.checkpoint_note(self.size, self.root, self.at)

    def signed_by(self, public_key: bytes) -> bool:
        if self.key_id != key_id(public_key):
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(self.signature, self.note())
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_json(self) -> dict[str, object]:
        return {
            "origin": chain.ORIGIN,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "at": self.at,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
            "note": self.note().decode(),
        }

    @classmethod
    def from_json(cls, data: dict) -> Checkpoint:
        """Raises KeyError, TypeError or ValueError on a malformed record."""
        if data.get("origin") != chain.ORIGIN:
            raise ValueError(f"not an audit checkpoint ({data.get('origin')!r})")
        size = data["size"]
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"checkpoint size {size!r}")
        return cls(
            size,
            base64.b64decode(data["root"], validate=True),
            str(data["at"]),
            str(data["key_id"]),
            base64.b64decode(data["signature"], validate=True),
        )
