"""Keyed blind indexes: exact-match search over encrypted identifiers without plaintext."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata


def normalise(kind: str, value: str) -> str:
    """Case, accents, spacing and punctuation differences do not defeat exact search."""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().upper()
    if kind in ("name", "alias"):
        return " ".join(text.replace("-", " ").replace("'", "").split())
    return "".join(ch for ch in text if ch.isalnum())


class BlindIndexer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("blind index key must be at least 32 bytes")
        self._key = key

    def digest(self, kind: str, value: str) -> bytes:
        """HMAC-SHA256 over the kind and the normalised value, truncated to 16 bytes."""
        message = kind.encode() + b"\x00" + normalise(kind, value).encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:16]
