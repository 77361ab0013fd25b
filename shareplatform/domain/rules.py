"""Operational rules from the inspection's recommendations, as plain settings and checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .agencies import Agency
from .cases import RecordType
from .labels import Label


@dataclass(frozen=True)
class Settings:
    # Rec 20: police visit a nominal's home only after a risk assessment completed
    # within this period.
    home_visit_assessment_days: int = 28
    # Rec 4: terrorist cases sit at MAPPA Level 3 for this long after release
    # (HMPPS policy, not law).
    level3_review_months: int = 12


DEFAULT_SETTINGS = Settings()


def needs_home_visit_assessment(record_type: RecordType, agencies: list[Agency]) -> bool:
    """A home or joint visit that police attend (rec 20)."""
    visit = record_type in (RecordType.CONTACT_HOME_VISIT, RecordType.CONTACT_JOINT_VISIT)
    return visit and Agency.CTNM in agencies


def assessment_current(visit_on: date, assessed_on: date | None, settings: Settings) -> bool:
    if assessed_on is None or assessed_on > visit_on:
        return False
    return (visit_on - assessed_on).days <= settings.home_visit_assessment_days


def lowers(old: Label, new: Label) -> bool:
    """Would `new` downgrade `old`: a lower classification, or a handling caveat dropped? Only the
    originator may downgrade (docs/domain.md, "Labels"); anyone else corrects at the same label
    or above."""
    return new.classification < old.classification or not old.caveats <= new.caveats
