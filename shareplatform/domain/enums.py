"""One way to read a vocabulary value from outside (forms, files, the API).

Clear errors, fail closed.
"""

from __future__ import annotations

import enum
from typing import TypeVar

from .errors import InvalidValue

E = TypeVar("E", bound=enum.Enum)


def parse_member(cls: type[E], value: object, kind: str, *, underscores: bool = False) -> E:
    """The member whose value matches `value` (case-insensitive; optionally '-'/' ' as '_')."""
    if isinstance(value, cls):
        return value
    text = str(value or "").strip().upper()
    if underscores:
        text = text.replace("-", "_").replace(" ", "_")
    member = cls._value2member_map_.get(text)
    if member is None:
        raise InvalidValue(kind, value, [str(m.value) for m in cls])
    return member  # type: ignore[return-value]
