"""Pure parts of risk management plans (shareplatform/lifecycle/plans.py): the headings and the
alert when a plan predates the latest ERG 22+ or PGF (rec 18)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from shareplatform.domain.cases import RecordType
from shareplatform.lifecycle.plans import ENQUIRY_TYPES, HEADINGS, alert_for
from shareplatform.lifecycle.stages import PLAN_BASIS_TYPES, PLAN_HEADINGS, SHAREABLE


def plan(version: int, effective_on: date) -> SimpleNamespace:
    """Only the two attributes alert_for reads (a RiskPlan row without a database)."""
    return SimpleNamespace(version=version, effective_on=effective_on)


def test_alert_when_the_plan_predates_the_latest_assessment() -> None:
    message = alert_for(plan(4, date(2026, 1, 10)), date(2026, 2, 1))  # type: ignore[arg-type]
    assert message.startswith("Version 4 of the plan (2026-01-10)")
    assert "(2026-02-01)" in message and message.endswith("review the plan.")


@pytest.mark.parametrize(
    "latest", [None, date(2026, 1, 10), date(2025, 12, 31)], ids=["none", "same-day", "older"]
)
def test_no_alert_when_the_plan_is_current(latest: date | None) -> None:
    assert alert_for(plan(2, date(2026, 1, 10)), latest) == ""  # type: ignore[arg-type]


def test_no_alert_without_a_plan() -> None:
    assert alert_for(None, date(2026, 2, 1)) == ""


def test_the_four_headings_and_a_contingency_plan() -> None:
    # docs/domain.md: supervision; monitoring and control; interventions and treatment; victim
    # safety
    assert set(PLAN_HEADINGS) | {"contingency"} == set(HEADINGS)
    assert HEADINGS["monitoring"] == "Monitoring and control"
    assert HEADINGS["interventions"] == "Interventions and treatment"
    assert HEADINGS["victim_safety"] == "Victim safety planning"


def test_what_a_plan_rests_on() -> None:
    assert set(PLAN_BASIS_TYPES) == {
        RecordType.ASSESSMENT_OASYS,
        RecordType.ASSESSMENT_ERG,
        RecordType.ASSESSMENT_PGF,
    }
    assert {t.family.value for t in ENQUIRY_TYPES} == {"enquiry"}
    assert len(ENQUIRY_TYPES) == 3
    assert set(SHAREABLE) == {RecordType.ASSESSMENT_ERG, RecordType.ASSESSMENT_PGF}
