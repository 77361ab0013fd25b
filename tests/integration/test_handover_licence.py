"""Release handover at service level on SQLite and PostgreSQL: licence conditions as data (sealed
details, labelled, policy as the plan), the enhanced national standards on approved premises and
electronic monitoring judged from them, and the POM/COM handover task list with who, when and
what is overdue relative to the release date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.cases.models import Case
from shareplatform.domain.errors import InvalidValue, NotFound, NotPermitted
from shareplatform.lifecycle import handover, licence
from shareplatform.lifecycle.release_models import HandoverTick, LicenceCondition
from shareplatform.reports.compliance import case_compliance
from shareplatform.reports.standards import (
    DURATION_STANDARDS,
    CaseFacts,
    Status,
    add_months,
    evaluate_duration,
)
from tests.integration.mappa_world import build_world

TODAY = date.today()
AP, EM = DURATION_STANDARDS


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    return build_world(platform)


def set_release(world, day: date) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        s.get(Case, world.case_id).release_date = day


def condition(
    world,
    who="com",
    kind="EM_GPS_TRAIL",
    start=None,
    end=None,
    details="Zone: Leeds",
    label="OFFICIAL-SENSITIVE",
):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        return licence.record_condition(
            world.ctx(s, who),
            world.case_id,
            licence.NewCondition(kind, start or TODAY, end, details, label),
        ).id


def conditions(world, who):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        ctx = world.ctx(s, who)
        return licence.conditions_for_case(ctx, s.get(Case, world.case_id))


def view(world, who, today=None):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        ctx = world.ctx(s, who, today)
        return handover.handover_for_case(ctx, s.get(Case, world.case_id))


def tick(world, who, task, done=True):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        return handover.tick(world.ctx(s, who), world.case_id, task, done, "note " + who)


# -- licence conditions --------------------------------------------------------------------------
def test_condition_details_sealed_and_read_by_the_team(world) -> None:  # type: ignore[no-untyped-def]
    condition(world, details="Exclusion: SECRET-STREET-NAME", kind="EXCLUSION_ZONE")
    [found] = conditions(world, "pom")
    assert found.condition_type is licence.ConditionType.EXCLUSION_ZONE
    assert found.details == "Exclusion: SECRET-STREET-NAME"
    assert found.author == "Com Person"
    with world.platform.transaction() as s:
        row = s.scalar(select(LicenceCondition))
        assert b"SECRET-STREET-NAME" not in row.details_ct
        assert row.classification == "OFFICIAL-SENSITIVE"
    assert conditions(world, "far") == []  # no relation to the case: nothing opened


def test_condition_rules(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue, match="condition type"):
        condition(world, kind="TELEPATHY")
    with pytest.raises(InvalidValue, match="on or after the start"):
        condition(world, start=TODAY, end=TODAY - timedelta(days=1))
    with pytest.raises(NotPermitted):  # SECRET conditions only in the corridor
        condition(world, label="SECRET")
    condition(world, who="honsu", label="SECRET", details="CORRIDOR-ONLY")
    assert conditions(world, "com") == []
    assert [c.details for c in conditions(world, "honsu")] == ["CORRIDOR-ONLY"]


# -- enhanced national standards -----------------------------------------------------------------
def facts(release: date, level: int = 3) -> CaseFacts:
    return CaseFacts("COMMUNITY", level, release)


def test_duration_standards_rules() -> None:
    release = TODAY - timedelta(days=30)
    year = add_months(release, 12)
    judge = evaluate_duration
    assert judge(EM, facts(release), [], TODAY).status is Status.NOT_MET  # EM is required
    assert judge(AP, facts(release), [], TODAY).status is Status.NOT_APPLICABLE
    gps = [("EM_GPS_TRAIL", release, year)]
    assert judge(EM, facts(release), gps, TODAY).status is Status.MET
    short = [("EM_CURFEW_TAG", release, year - timedelta(days=40))]
    assert judge(EM, facts(release), short, TODAY).status is Status.NOT_MET
    assert judge(EM, facts(release), [("EM_GPS_TRAIL", release, None)], TODAY).status is Status.MET
    assert judge(AP, facts(release), [("APPROVED_PREMISES", release, year)], TODAY).status is (
        Status.MET
    )
    long = [("APPROVED_PREMISES", release, year + timedelta(days=1))]
    assert judge(AP, facts(release), long, TODAY).status is Status.NOT_MET
    assert judge(EM, facts(release, level=1), gps, TODAY).status is Status.NOT_APPLICABLE
    assert judge(EM, facts(TODAY + timedelta(days=3)), gps, TODAY).status is (Status.NOT_APPLICABLE)


def test_case_standards_page_judges_recorded_conditions(world) -> None:  # type: ignore[no-untyped-def]
    release = TODAY - timedelta(days=20)
    set_release(world, release)
    condition(world, kind="APPROVED_PREMISES", start=release, end=add_months(release, 6))
    condition(world, kind="EM_GPS_TRAIL", start=release, end=add_months(release, 6))
    with world.platform.transaction() as s:
        _, results = case_compliance(world.ctx(s, "com"), world.case_id)
    by_code = {r.standard.code: r for r in results}
    assert by_code["approved_premises_12_months"].status is Status.MET
    assert by_code["electronic_monitoring_12_months"].status is Status.NOT_MET
    condition(world, kind="EM_CURFEW_TAG", start=release, end=add_months(release, 13))
    with world.platform.transaction() as s:
        _, results = case_compliance(world.ctx(s, "com"), world.case_id)
    assert {r.standard.code: r for r in results}[
        "electronic_monitoring_12_months"
    ].status is Status.MET


# -- the handover task list ----------------------------------------------------------------------
def test_list_opens_twelve_weeks_before_release(world) -> None:  # type: ignore[no-untyped-def]
    assert view(world, "com").release_date is None
    release = TODAY + timedelta(weeks=14)
    set_release(world, release)
    before = view(world, "com")
    assert not before.is_open and before.opens_on == release - timedelta(weeks=12)
    assert view(world, "com", today=release - timedelta(weeks=12)).is_open


def test_pom_ticks_com_sees_with_who_and_when(world) -> None:  # type: ignore[no-untyped-def]
    set_release(world, TODAY + timedelta(weeks=6))
    tick(world, "pom", "APPROVED_PREMISES")
    tasks = {t.task.value: t for t in view(world, "com").tasks}
    ap = tasks["APPROVED_PREMISES"]
    assert ap.done and ap.by == "Pom Person" and ap.by_role == "POM" and ap.at is not None
    assert ap.note == "note pom"
    tick(world, "com", "APPROVED_PREMISES", done=False)  # either owner may undo
    ap = {t.task.value: t for t in view(world, "pom").tasks}["APPROVED_PREMISES"]
    assert not ap.done and ap.by_role == "COM"
    with world.platform.transaction() as s:
        assert len(s.scalars(select(HandoverTick)).all()) == 2  # append-only history
        assert all(b"note" not in r.note_ct for r in s.scalars(select(HandoverTick)))


def test_overdue_relative_to_release(world) -> None:  # type: ignore[no-untyped-def]
    release = TODAY + timedelta(days=10)  # AP was due 56 days before release
    set_release(world, release)
    tasks = {t.task.value: t for t in view(world, "com").tasks}
    assert tasks["APPROVED_PREMISES"].overdue and tasks["LICENCE_CONDITIONS"].overdue
    assert not tasks["FIRST_APPOINTMENT"].overdue  # due 7 days before release
    assert not tasks["S47_NOTIFICATION"].overdue  # within 3 days after release
    assert tasks["S47_NOTIFICATION"].due_on == release + timedelta(days=3)
    tick(world, "com", "APPROVED_PREMISES")
    tasks = {t.task.value: t for t in view(world, "com").tasks}
    assert not tasks["APPROVED_PREMISES"].overdue


def test_only_the_pom_and_com_tick(world) -> None:  # type: ignore[no-untyped-def]
    set_release(world, TODAY + timedelta(weeks=6))
    with pytest.raises(NotPermitted):
        tick(world, "nm", "VISOR_UPDATED")  # on the team, but not an owner of the list
    with pytest.raises(NotFound):
        tick(world, "far", "VISOR_UPDATED")  # no relation: the case is unknown to them
    with pytest.raises(InvalidValue):
        tick(world, "com", "NOT_A_TASK")
    assert not view(world, "nm").can_tick
    assert view(world, "pom").can_tick
