"""An insider with write access to the database, but not the keys, changes a licence condition's
type or end date to move the national standards. The stamp (shareplatform/crypto/attested.py,
`LicenceCondition.__facts__`) no longer verifies: the condition is withheld with an integrity
marker, audited, not counted per case or across cases, and cannot be varied. SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case
from shareplatform.domain.errors import NotFound
from shareplatform.lifecycle import licence
from shareplatform.reports.compliance import case_compliance, scope_compliance
from shareplatform.reports.scope import scope_for
from shareplatform.reports.standards import add_months
from tests.integration.test_licence_changes import RELEASE, released_world
from tests.security.test_insider_facts import sql

EM = "electronic_monitoring_12_months"


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    return released_world(platform)


def judged(world) -> tuple[str, tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        ctx = world.ctx(s, "com")
        _, results = case_compliance(ctx, world.case_id)
        per_case = {r.standard.code: r.status.value for r in results}[EM]
        total = {x.code: x for x in scope_compliance(ctx, scope_for(ctx))}[EM]
        return per_case, (total.met, total.not_met, total.not_applicable)


@pytest.mark.parametrize(
    "change",
    [
        "condition_type = 'EM_CURFEW_TAG'",  # a GPS condition of 6 months made a tag: same verdict
        "ends_on = :later",  # a 6-month condition stretched to 13 months: would be "met"
    ],
)
def test_a_conditions_type_or_end_date_changed_in_sql_is_detected(world, change: str) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        cid = licence.record_condition(
            world.ctx(s, "com"),
            world.case_id,
            licence.NewCondition(
                "EM_GPS_TRAIL", RELEASE, add_months(RELEASE, 6), "Zone: Leeds", "OFFICIAL-SENSITIVE"
            ),
        ).id
    assert judged(world) == ("not met", (0, 1, 0))
    params = {"id": cid} | ({"later": add_months(RELEASE, 13)} if ":later" in change else {})
    sql(world.platform, f"UPDATE licence_conditions SET {change} WHERE id = :id", **params)

    with world.platform.transaction() as s:
        [shown] = licence.conditions_for_case(world.ctx(s, "com"), s.get(Case, world.case_id))
    assert shown.withheld and shown.details == "" and shown.ends_on is None  # nothing believed
    # not counted: with no trusted EM condition the case does not meet the standard
    assert judged(world) == ("not met", (0, 1, 0))
    # nobody builds a variation on a forged version
    with pytest.raises(NotFound), world.platform.transaction() as s:
        licence.end_condition(world.ctx(s, "com"), world.case_id, cid, RELEASE, "End it")
    with world.platform.transaction() as s:
        failures = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "integrity.fail")))
    assert any(str(cid) in str(f.detail) for f in failures)


@pytest.mark.parametrize(
    "change",
    [
        "done = NOT done",  # "s.47 notification made" shown as done
        "task = 'VISOR_UPDATED'",  # a tick moved to another task
        "created_at = created_at + INTERVAL '1 day'",  # an old tick made the latest
    ],
)
def test_a_handover_tick_changed_in_the_database_is_not_believed(platform, change: str) -> None:  # type: ignore[no-untyped-def]
    """A tick's task, state and time are stamped (`HandoverTick.__facts__`): the edited tick
    is withheld, audited as an integrity failure, and the task reads as before it."""
    from datetime import date, timedelta

    from tests.integration.mappa_world import build_world
    from tests.integration.test_handover_licence import set_release, tick, view

    world = build_world(platform)
    set_release(world, date.today() + timedelta(weeks=6))
    tick(world, "pom", "APPROVED_PREMISES", done=False)
    if "INTERVAL" in change and platform.db.engine.dialect.name == "sqlite":
        change = "created_at = datetime(created_at, '+1 day')"
    sql(platform, f"UPDATE handover_ticks SET {change}")
    tasks = {t.task.value: t for t in view(world, "com").tasks}
    assert not tasks["APPROVED_PREMISES"].done and tasks["APPROVED_PREMISES"].at is None
    assert not tasks["VISOR_UPDATED"].done and tasks["VISOR_UPDATED"].at is None
    with platform.transaction() as s:
        failed = s.scalars(select(AuditEntry).where(AuditEntry.action == "integrity.fail")).all()
        assert failed and "handover_ticks" in failed[0].detail
