"""Canonical encoding and hashing of audit entries.

Pure functions, shared by writer and verifier.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

GENESIS = b"\x00" * 32
FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "label",
    "outcome",
    "reason",
    "detail",
)


def canonical_detail(detail: dict[str, object]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), default=str)


def timestamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode(values: Sequence[object]) -> bytes:
    """Length-prefixed encoding of the entry's fields in FIELDS order: unambiguous and cheap."""
    out = bytearray()
    for value in values:
        raw = str(value if value is not None else "").encode()
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


def link(prev_hash: bytes, encoded: bytes) -> bytes:
    return hashlib.sha256(prev_hash + encoded).digest()


def checkpoint_message(seq: int, entry_hash: bytes) -> bytes:
    return b"shareplatform-audit-checkpoint|" + str(seq).encode() + b"|" + entry_hash
