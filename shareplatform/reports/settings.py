"""Settings for management information: plain values, overridable per deployment."""

from __future__ import annotations

from dataclasses import dataclass, field

from .standards import DEFAULT_STANDARDS, ContactStandard, add_months


def _durations() -> dict[str, float]:
    # Meetings carry no recorded duration yet: chairing time is estimated per meeting type (hours).
    return {"MAPPA_L3": 2.0, "MAPPA_L2": 1.5, "CORE_GROUP": 1.0, "PATHFINDER": 1.5, "REVEAL": 1.0}


def _category_weights() -> dict[str, float]:
    return {
        "TERRORIST": 1.5,
        "TERRORIST_CONNECTED": 1.25,
        "TERRORIST_RISK": 1.0,
        "CRITICAL_PUBLIC_PROTECTION": 1.25,
    }


def _level_weights() -> dict[int, float]:
    return {1: 1.0, 2: 1.25, 3: 1.5}


@dataclass(frozen=True)
class ReportSettings:
    standards: tuple[ContactStandard, ...] = DEFAULT_STANDARDS
    meeting_hours: dict[str, float] = field(default_factory=_durations)
    category_weights: dict[str, float] = field(default_factory=_category_weights)
    level_weights: dict[int, float] = field(default_factory=_level_weights)
    # Counts below this are shown as "fewer than N" to a wider (national) audience.
    suppress_below: int = 5
    chairing_months: int = 12  # chairing hours are counted over this many months
    contact_weeks: int = 8  # contacts per week per case are averaged over this many weeks
    # Terrorist caseload of a POM: these categories count as terrorist cases.
    terrorist_categories: tuple[str, ...] = ("TERRORIST", "TERRORIST_CONNECTED")

    def weight(self, category: str, level: int) -> float:
        return self.category_weights.get(category, 1.0) * self.level_weights.get(level, 1.0)

    def meeting_duration(self, meeting_type: str) -> float:
        return self.meeting_hours.get(meeting_type, 1.0)


DEFAULT_REPORT_SETTINGS = ReportSettings()
__all__ = ["DEFAULT_REPORT_SETTINGS", "ReportSettings", "add_months", "suppressed"]


def suppressed(value: int, threshold: int) -> bool:
    """A non-zero count small enough to point at a person in a wider audience."""
    return 0 < value < threshold
