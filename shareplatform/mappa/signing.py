"""Canonical content, content hashes and Ed25519 signatures of decision-log entries.

Pure functions shared by the writer (services), the reader (verify on every read) and the offline
verifier of inspection exports. The signed message binds a domain tag, the entry type and the
SHA-256 of its canonical JSON, so a signature over one kind of entry never validates another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..domain.errors import DomainError

DOMAIN_TAG = b"shareplatform-mappa|"


class SigningFailed(DomainError):
    """The platform could not sign: nothing is recorded (fail closed)."""


def stamp(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.isoformat()


def canonical(content: Mapping[str, object]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(content: Mapping[str, object]) -> bytes:
    return hashlib.sha256(canonical(content)).digest()


def message(kind: str, digest: bytes) -> bytes:
    return DOMAIN_TAG + kind.encode() + b"|" + digest


def sign(signer: object, kind: str, content: Mapping[str, object]) -> tuple[bytes, bytes, str]:
    """(content hash, signature, key id). Verifies its own signature before returning it."""
    digest = content_hash(content)
    try:
        signature = signer.sign(message(kind, digest))  # type: ignore[attr-defined]
        public = signer.public_key  # type: ignore[attr-defined]
        key_id = signer.key_id  # type: ignore[attr-defined]
    except Exception as exc:  # any failure of the key or the provider: record nothing
        raise SigningFailed(
            "The decision could not be signed, so nothing has been recorded."
        ) from exc
    if not isinstance(signature, bytes) or verify_signature(public, kind, digest, signature):
        raise SigningFailed("The signature could not be verified, so nothing has been recorded.")
    return digest, signature, key_id


def verify_signature(public_key: bytes, kind: str, digest: bytes, signature: bytes) -> str:
    """ "" when valid, else the problem."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message(kind, digest))
    except (InvalidSignature, ValueError, TypeError):
        return "signature does not verify"
    return ""


def verify(
    public_key: bytes,
    kind: str,
    content: Mapping[str, object],
    stored_hash: bytes,
    signature: bytes | None,
) -> str:
    """Check stored content against its stored hash and signature; "" when intact."""
    if content_hash(content) != stored_hash:
        return "content does not match its recorded hash"
    if signature is None:
        return ""
    return verify_signature(public_key, kind, stored_hash, signature)
