"""Key providers: where key-encryption keys and platform secrets live.

A provider holds one KEK per classification level and version, and never hands a KEK out: it
wraps and unwraps data keys. The file provider is the embedded default for development; the
PKCS#11 provider (an HSM) implements the same interface for production.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

SECRETS = ("index", "signing", "service")  # blind index, audit/decision signing, auth secrets


class KeyProblem(Exception):
    """Keys missing, wrong, or not usable. The message says what to do."""


class KeyProvider(Protocol):
    name: str

    def kek_versions(self, level: str) -> list[int]: ...
    def create_kek(self, level: str, version: int) -> None: ...
    def destroy_kek(self, level: str, version: int) -> None: ...
    def forget(self, level: str, version: int) -> None: ...
    def wrap(self, level: str, version: int, dek: bytes) -> bytes: ...
    def unwrap(self, level: str, version: int, wrapped: bytes) -> bytes: ...
    def check_value(self, level: str, version: int) -> str: ...
    def secret(self, name: str) -> bytes | None: ...
    def create_secret(self, name: str) -> bytes: ...


_KEK_FILE = re.compile(r"^v(\d+)\.key$")


class FileKeyProvider:
    """Keys as 0600 files under the keys directory (development and the embedded demo)."""

    name = "file"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._cache: dict[tuple[str, int], bytes] = {}

    # -- KEKs ---------------------------------------------------------------------------------
    def _kek_path(self, level: str, version: int) -> Path:
        return self.root / "kek" / level / f"v{version}.key"

    def kek_versions(self, level: str) -> list[int]:
        folder = self.root / "kek" / level
        if not folder.is_dir():
            return []
        found = (_KEK_FILE.match(p.name) for p in folder.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def create_kek(self, level: str, version: int) -> None:
        path = self._kek_path(level, version)
        if path.exists():
            raise KeyProblem(f"KEK {level} v{version} already exists at {path}")
        _write_secret_file(path, os.urandom(32))

    def destroy_kek(self, level: str, version: int) -> None:
        """Idempotent: destroying a key that is already gone succeeds."""
        path = self._kek_path(level, version)
        if path.exists():
            path.write_bytes(b"\0" * 32)  # overwrite before unlinking; best effort on disk
            path.unlink()
        self.forget(level, version)

    def forget(self, level: str, version: int) -> None:
        """Drop a KEK from this process's memory (another process retired it)."""
        self._cache.pop((level, version), None)

    def _kek(self, level: str, version: int) -> bytes:
        key = self._cache.get((level, version))
        if key is None:
            path = self._kek_path(level, version)
            if not path.exists():
                raise KeyProblem(f"KEK {level} v{version} is missing from {self.root}")
            key = path.read_bytes()
            if len(key) != 32:
                raise KeyProblem(f"KEK file {path} is not a 256-bit key")
            self._cache[(level, version)] = key
        return key

    def wrap(self, level: str, version: int, dek: bytes) -> bytes:
        return aes_key_wrap(self._kek(level, version), dek)

    def unwrap(self, level: str, version: int, wrapped: bytes) -> bytes:
        return aes_key_unwrap(self._kek(level, version), wrapped)

    def rewrapper(self, level: str, from_version: int, to_version: int) -> Callable[[bytes], bytes]:
        """Unwrap under one version and wrap under another, both KEKs looked up once: rotation
        (crypto/keyring.py) re-wraps a batch with one of these instead of a lookup per key."""
        old, new = self._kek(level, from_version), self._kek(level, to_version)
        return lambda wrapped: aes_key_wrap(new, aes_key_unwrap(old, wrapped))

    def check_value(self, level: str, version: int) -> str:
        """Identifies a KEK without revealing it, to detect a wrong key set at start-up."""
        return hmac.new(self._kek(level, version), b"kcv", hashlib.sha256).hexdigest()[:16]

    # -- platform secrets -------------------------------------------------------------------
    def secret(self, name: str) -> bytes | None:
        path = self.root / f"{name}.key"
        return path.read_bytes() if path.exists() else None

    def create_secret(self, name: str) -> bytes:
        value = os.urandom(32)
        _write_secret_file(self.root / f"{name}.key", value)
        return value


def _write_secret_file(path: Path, value: bytes) -> None:
    """Written whole or not at all: a process killed mid-write leaves no short key file under the
    key's name (only a temporary one, which no version pattern matches), and an existing key is
    never replaced (the link fails)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    finally:
        os.unlink(temporary)
