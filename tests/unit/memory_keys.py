"""An in-memory KeyProvider for unit tests (test-only code, never used by the application).

It follows shareplatform/crypto/keys.py's `KeyProvider` protocol and the file provider's
behaviour: KEKs are 256-bit keys per (level, version), data keys are wrapped with RFC 3394 AES
key wrap (`aes_key_wrap`, the same format as the file and PKCS#11 providers), and destroying a
KEK is idempotent.

The "backing store" (what the file provider keeps on disk) is a `MemoryKeyStore` that several
providers can share, as several processes share one keys directory; each provider caches the
KEKs it has used, and `forget` drops one from that cache.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from shareplatform.crypto.keys import KeyProblem


@dataclass
class MemoryKeyStore:
    """What a keys directory would hold: KEKs by (level, version) and named platform secrets."""

    keks: dict[tuple[str, int], bytes] = field(default_factory=dict)
    secrets: dict[str, bytes] = field(default_factory=dict)


class MemoryKeyProvider:
    name = "memory"

    def __init__(self, store: MemoryKeyStore | None = None) -> None:
        self.store = store if store is not None else MemoryKeyStore()
        self._cache: dict[tuple[str, int], bytes] = {}
        self.wraps = 0
        self.unwraps = 0

    # -- KEKs -------------------------------------------------------------------------------------
    def kek_versions(self, level: str) -> list[int]:
        return sorted(version for lvl, version in self.store.keks if lvl == level)

    def create_kek(self, level: str, version: int) -> None:
        if (level, version) in self.store.keks:
            raise KeyProblem(f"KEK {level} v{version} already exists in memory")
        self.store.keks[(level, version)] = os.urandom(32)

    def destroy_kek(self, level: str, version: int) -> None:
        """Idempotent: destroying a key that is already gone succeeds."""
        self.store.keks.pop((level, version), None)
        self.forget(level, version)

    def forget(self, level: str, version: int) -> None:
        """Drop a KEK from this provider's cache (another provider destroyed it)."""
        self._cache.pop((level, version), None)

    def _kek(self, level: str, version: int) -> bytes:
        key = self._cache.get((level, version))
        if key is None:
            key = self.store.keks.get((level, version))
            if key is None:
                raise KeyProblem(f"KEK {level} v{version} is missing from memory")
            self._cache[(level, version)] = key
        return key

    def wrap(self, level: str, version: int, dek: bytes) -> bytes:
        self.wraps += 1
        return aes_key_wrap(self._kek(level, version), dek)

    def unwrap(self, level: str, version: int, wrapped: bytes) -> bytes:
        self.unwraps += 1
        return aes_key_unwrap(self._kek(level, version), wrapped)

    def check_value(self, level: str, version: int) -> str:
        return hmac.new(self._kek(level, version), b"kcv", hashlib.sha256).hexdigest()[:16]

    # -- platform secrets -------------------------------------------------------------------------
    def secret(self, name: str) -> bytes | None:
        return self.store.secrets.get(name)

    def create_secret(self, name: str) -> bytes:
        if name in self.store.secrets:
            raise KeyProblem(f"secret {name!r} already exists in memory")
        value = os.urandom(32)
        self.store.secrets[name] = value
        return value
