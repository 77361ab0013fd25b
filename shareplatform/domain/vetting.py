"""National security vetting and what each level allows."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from .enums import parse_member
from .labels import Classification


class Vetting(enum.StrEnum):
    NONE = "NONE"
    BPSS = "BPSS"
    CTC = "CTC"
    SC = "SC"
    DV = "DV"

    @classmethod
    def parse(cls, value: object) -> Vetting:
        return parse_member(cls, value, "vetting level")

    @property
    def clearance(self) -> Classification | None:
        """Highest classification this level gives regular access to (None: nothing)."""
        return _CLEARANCE[self]


# CTC is required for counter-terrorism posts but grants no access beyond BPSS. DV clears for
# TOP SECRET, which this platform does not hold, so here it reaches SECRET like SC.
_CLEARANCE: dict[Vetting, Classification | None] = {
    Vetting.NONE: None,
    Vetting.BPSS: Classification.OFFICIAL_SENSITIVE,
    Vetting.CTC: Classification.OFFICIAL_SENSITIVE,
    Vetting.SC: Classification.SECRET,
    Vetting.DV: Classification.SECRET,
}


@dataclass(frozen=True, slots=True)
class VettingStatus:
    level: Vetting
    expires: date | None

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def clearance(self, today: date) -> Classification | None:
        """What the holder may read today: nothing once vetting has expired."""
        return None if self.expired(today) else self.level.clearance

    def may_label(self, classification: Classification, today: date) -> bool:
        """A user may label material only at levels they are cleared for."""
        cleared = self.clearance(today)
        return cleared is not None and cleared >= classification
