"""Protective markings: classification levels and handling caveats.

OFFICIAL-SENSITIVE is OFFICIAL with the SENSITIVE marking; for access purposes it is a distinct
rung between OFFICIAL and SECRET. The platform holds material up to SECRET: TOP SECRET is refused.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InvalidValue


class Classification(enum.IntEnum):
    OFFICIAL = 1
    OFFICIAL_SENSITIVE = 2
    SECRET = 3

    @property
    def marking(self) -> str:
        return self.name.replace("_", "-")

    @classmethod
    def parse(cls, value: object) -> Classification:
        if isinstance(value, Classification):
            return value
        exact = _BY_MARKING.get(value) if isinstance(value, str) else None
        if exact is not None:  # the stored form: no normalising needed
            return exact
        text = str(value or "").strip().upper().replace("_", "-").replace(" ", "-")
        if not text:
            raise InvalidValue("classification", value, cls.markings())
        if text in ("TOP-SECRET", "TS"):
            raise InvalidValue(
                "classification",
                value,
                cls.markings(),
                "this platform holds material up to SECRET only",
            )
        for member in cls:
            if member.marking == text:
                return member
        raise InvalidValue("classification", value, cls.markings())

    @classmethod
    def markings(cls) -> list[str]:
        return [m.marking for m in cls]

    def __str__(self) -> str:
        return self.marking


_BY_MARKING = {m.marking: m for m in Classification}


def dominates(higher: Classification, lower: Classification) -> bool:
    """True when `higher` is at or above `lower` in the ordering."""
    return int(higher) >= int(lower)


class Caveat(enum.StrEnum):
    ORCON = "ORCON"
    UK_EYES_ONLY = "UK EYES ONLY"
    PERSONAL = "PERSONAL"

    @classmethod
    def parse(cls, value: object) -> Caveat:
        if isinstance(value, Caveat):
            return value
        text = " ".join(str(value or "").strip().upper().replace("_", " ").split())
        for member in cls:
            if member.value == text:
                return member
        raise InvalidValue("caveat", value, [c.value for c in cls])


@dataclass(frozen=True, slots=True)
class Label:
    """A classification with its handling caveats. A label always has a classification."""

    classification: Classification
    caveats: frozenset[Caveat] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.classification, Classification):
            raise InvalidValue("classification", self.classification, Classification.markings())

    @classmethod
    def of(cls, classification: object, caveats: Iterable[object] | str | None = ()) -> Label:
        if isinstance(classification, str) and isinstance(caveats, str):
            return _stored_label(classification, caveats)
        return cls._of(classification, caveats)

    @classmethod
    def _of(cls, classification: object, caveats: Iterable[object] | str | None = ()) -> Label:
        if classification is None or classification == "":
            raise InvalidValue("classification", classification, Classification.markings())
        if isinstance(caveats, str):
            caveats = [c for c in caveats.split(",") if c.strip()]
        return cls(
            Classification.parse(classification), frozenset(Caveat.parse(c) for c in caveats or ())
        )

    @property
    def orcon(self) -> bool:
        return Caveat.ORCON in self.caveats

    def caveat_text(self) -> str:
        """Canonical, sorted caveat list for storage and associated data."""
        return ",".join(sorted(c.value for c in self.caveats))

    def __str__(self) -> str:
        parts = [self.classification.marking, *sorted(c.value for c in self.caveats)]
        return " ".join(parts[:1]) + ("".join(f" / {p}" for p in parts[1:]))

    def canonical(self) -> str:
        return f"{self.classification.marking}|{self.caveat_text()}"


@functools.lru_cache(maxsize=256)
def _stored_label(classification: str, caveats: str) -> Label:
    """Labels as stored (two strings) repeat endlessly: parse each distinct pair once."""
    return Label._of(classification, caveats)


def highest(labels: Iterable[Classification]) -> Classification:
    """Highest classification of what a page or export displays (OFFICIAL when it shows nothing)."""
    return max(labels, default=Classification.OFFICIAL)
