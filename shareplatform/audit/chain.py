"""Canonical encoding of audit entries and the signed text of a checkpoint.

Pure functions, shared by writer and verifier. An entry is stored as these bytes (`body`); the
Merkle tree (`merkle.py`) hashes them.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Sequence
from datetime import UTC, datetime

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
ORIGIN = "shareplatform audit"


# json.dumps builds an encoder per call when given options: one, built once, writes the same text
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode


def canonical_detail(detail: dict[str, object]) -> str:
    return _CANONICAL(detail) if detail else "{}"


def timestamp(at: datetime) -> str:
    """UTC, whatever zone the database handed the value back in: %Y-%m-%dT%H:%M:%S.%fZ."""
    if at.tzinfo is not None and at.utcoffset():
        at = at.astimezone(UTC)
    if at.year < 1000:  # isoformat pads the year to four digits, strftime does not
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return at.isoformat(timespec="microseconds")[:26] + "Z"


_LENGTH = struct.Struct(">I").pack


def encode(values: Sequence[object]) -> bytes:
    """Length-prefixed encoding of the entry's fields in FIELDS order: unambiguous and cheap."""
    out: list[bytes] = []
    for value in values:
        raw = str(value).encode() if value is not None else b""
        out += (_LENGTH(len(raw)), raw)
    return b"".join(out)


def decode(body: bytes) -> dict[str, str]:
    """The fields of an encoded entry, by name, as the strings that were encoded."""
    out: dict[str, str] = {}
    pos = 0
    for name in FIELDS:
        size = int.from_bytes(body[pos : pos + 4], "big")
        raw = body[pos + 4 : pos + 4 + size]
        if len(raw) != size:
            raise ValueError("truncated audit entry body")
        out[name] = raw.decode()
        pos += 4 + size
    if pos != len(body):
        raise ValueError("trailing bytes after an audit entry body")
    return out


def checkpoint_note(size: int, root: bytes, at: str) -> bytes:
    """The text a checkpoint signs, in the manner of Go's checksum database notes."""
    return f"{ORIGIN}\n{size}\n{base64.b64encode(root).decode()}\n{at}\n".encode()
