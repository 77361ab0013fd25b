"""Operational rules and settings (shareplatform/domain/rules.py) and domain errors."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from shareplatform.domain.agencies import Agency
from shareplatform.domain.cases import RecordType
from shareplatform.domain.errors import Conflict, InvalidValue, NotFound, NotPermitted
from shareplatform.domain.rules import (
    DEFAULT_SETTINGS,
    Settings,
    assessment_current,
    needs_home_visit_assessment,
)

VISITS = {RecordType.CONTACT_HOME_VISIT, RecordType.CONTACT_JOINT_VISIT}


@pytest.mark.parametrize("record_type", list(RecordType))
def test_home_visit_assessment_needed_only_for_visits_police_attend(
    record_type: RecordType,
) -> None:
    with_police = needs_home_visit_assessment(record_type, [Agency.NSD, Agency.CTNM])
    without = needs_home_visit_assessment(record_type, [Agency.NSD, Agency.PRISON])
    assert with_police is (record_type in VISITS)
    assert without is False


def test_police_alone_on_a_home_visit_needs_an_assessment() -> None:
    assert needs_home_visit_assessment(RecordType.CONTACT_HOME_VISIT, [Agency.CTNM])
    assert not needs_home_visit_assessment(RecordType.CONTACT_HOME_VISIT, [])


VISIT = date(2026, 3, 31)


@pytest.mark.parametrize(
    ("days_before", "current"),
    [(0, True), (1, True), (27, True), (28, True), (29, False), (365, False), (-1, False)],
)
def test_assessment_current_window_edges(days_before: int, current: bool) -> None:
    assessed = VISIT - timedelta(days=days_before)
    assert assessment_current(VISIT, assessed, DEFAULT_SETTINGS) is current


def test_missing_assessment_is_never_current() -> None:
    assert not assessment_current(VISIT, None, DEFAULT_SETTINGS)


def test_assessment_window_is_a_setting() -> None:
    strict = Settings(home_visit_assessment_days=7)
    assert assessment_current(VISIT, VISIT - timedelta(days=7), strict)
    assert not assessment_current(VISIT, VISIT - timedelta(days=8), strict)
    assert assessment_current(VISIT, VISIT - timedelta(days=8), DEFAULT_SETTINGS)


def test_default_settings_follow_the_inspection() -> None:
    # Rec 4: twelve months at Level 3 after release is HMPPS policy, kept as a setting.
    assert DEFAULT_SETTINGS.level3_review_months == 12
    assert DEFAULT_SETTINGS.home_visit_assessment_days == 28
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_SETTINGS.level3_review_months = 6  # type: ignore[misc]
    assert Settings(level3_review_months=18).level3_review_months == 18


def test_invalid_value_message_is_safe_and_useful() -> None:
    err = InvalidValue("caveat", "NOFORN", ["ORCON", "PERSONAL"], "not a UK caveat")
    assert str(err) == "Invalid caveat: 'NOFORN': not a UK caveat (allowed: ORCON, PERSONAL)"
    assert str(InvalidValue("role", "")) == "Invalid role: no value"
    assert str(InvalidValue("role", None)) == "Invalid role: no value"
    assert isinstance(err, ValueError)


def test_not_found_and_not_permitted() -> None:
    assert str(NotFound("case")) == "Case not found"
    assert str(NotFound()) == "Page not found"
    assert issubclass(Conflict, NotPermitted)
