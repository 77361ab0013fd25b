"""Licence conditions varied and ended at service level on SQLite and PostgreSQL: a change is a
new version superseding the current one, with a reason (sealed, audited); earlier versions are
kept and shown to their readers; the standards, per case and across the viewer's cases, judge
the current versions they may read. Rows stamped before revision 0015 are adopted once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shareplatform.audit.models import AuditEntry
from shareplatform.audit.verify import verify
from shareplatform.cases.models import Case
from shareplatform.crypto.attested import attested_columns, attestor_of
from shareplatform.domain.errors import Conflict, InvalidValue, NotFound, NotPermitted
from shareplatform.lifecycle import licence
from shareplatform.lifecycle.release_models import LicenceCondition
from shareplatform.reports.compliance import case_compliance, scope_compliance
from shareplatform.reports.scope import scope_for
from shareplatform.reports.standards import add_months
from shareplatform.widened import WIDENED, adopt_widened_stamps
from tests.integration.mappa_world import World, build_world

TODAY = date.today()
RELEASE = TODAY - timedelta(days=20)
AP, EM = "approved_premises_12_months", "electronic_monitoring_12_months"


def released_world(platform) -> World:  # type: ignore[no-untyped-def]
    """tests/integration/mappa_world.py's case, released 20 days ago (MAPPA level 2 or 3)."""
    w = build_world(platform)
    with platform.transaction() as s:
        s.get(Case, w.case_id).release_date = RELEASE
    return w


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    return released_world(platform)


def add(world, kind="EM_GPS_TRAIL", months=6, who="com", label="OFFICIAL-SENSITIVE"):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        return licence.record_condition(
            world.ctx(s, who),
            world.case_id,
            licence.NewCondition(kind, RELEASE, add_months(RELEASE, months), "Zone: Leeds", label),
        ).id


def vary(world, cid, kind="EM_GPS_TRAIL", months=13, reason="Varied by the board", who="com"):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        data = licence.NewCondition(kind, RELEASE, add_months(RELEASE, months), "Zone: York")
        return licence.vary_condition(world.ctx(s, who), world.case_id, cid, data, reason).id


def end(world, cid, day, reason="Removed by the board", who="com"):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        return licence.end_condition(world.ctx(s, who), world.case_id, cid, day, reason).id


def current(world, who="com"):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        return licence.conditions_for_case(world.ctx(s, who), s.get(Case, world.case_id))


def case_status(world, who="com"):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        _, results = case_compliance(world.ctx(s, who), world.case_id)
        return {r.standard.code: r.status.value for r in results}


def totals(world, who="com"):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        ctx = world.ctx(s, who)
        return {
            x.code: (x.met, x.not_met, x.not_applicable)
            for x in scope_compliance(ctx, scope_for(ctx))
        }


def rows(world) -> int:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        return s.scalar(select(func.count()).select_from(LicenceCondition))


def test_a_variation_supersedes_and_keeps_the_history(world) -> None:  # type: ignore[no-untyped-def]
    first = add(world)
    assert case_status(world)[EM] == "not met"  # six months
    second = vary(world, first)
    [now] = current(world)
    assert now.id == second and now.change is licence.Change.VARIED
    assert (now.details, now.reason) == ("Zone: York", "Varied by the board")
    assert [h.id for h in now.history] == [first] and now.history[0].details == "Zone: Leeds"
    assert case_status(world)[EM] == "met"
    with world.platform.transaction() as s:
        row = s.get(LicenceCondition, second)
        assert b"Varied by the board" not in row.reason_ct
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "licence.vary"))
        assert entry.outcome == "done"
    with pytest.raises(Conflict):  # the old version is no longer current
        vary(world, first, months=14)


def test_ending_a_condition(world) -> None:  # type: ignore[no-untyped-def]
    first = add(world, months=13)
    assert case_status(world)[EM] == "met"
    with pytest.raises(InvalidValue, match="on or before its current end"):
        end(world, first, add_months(RELEASE, 14))
    with pytest.raises(InvalidValue, match="reason"):
        end(world, first, RELEASE + timedelta(days=30), reason="  ")
    with pytest.raises(InvalidValue, match="end date"):
        end(world, first, None)
    assert rows(world) == 1  # nothing half-written
    ended = end(world, first, RELEASE + timedelta(days=30))
    [now] = current(world)
    assert now.id == ended and now.change is licence.Change.ENDED
    assert now.ends_on == RELEASE + timedelta(days=30) and now.details == "Zone: Leeds"
    assert case_status(world)[EM] == "not met"  # ended early: less than 12 months
    with world.platform.transaction() as session:  # each version has its creation entry
        assert verify(session, world.platform.signer.public_key).ok


def test_bad_variations_write_nothing(world) -> None:  # type: ignore[no-untyped-def]
    first = add(world)
    with pytest.raises(InvalidValue, match="reason"):
        vary(world, first, reason="")
    with pytest.raises(InvalidValue, match="condition type"):
        vary(world, first, kind="TELEPATHY")
    with pytest.raises(InvalidValue, match="change its type"), world.platform.transaction() as s:
        data = licence.NewCondition("EM_GPS_TRAIL", RELEASE, add_months(RELEASE, 6), "Zone: Leeds")
        licence.vary_condition(world.ctx(s, "com"), world.case_id, first, data, "No change")
    assert rows(world) == 1


def test_who_may_change_a_condition(world) -> None:  # type: ignore[no-untyped-def]
    first = add(world)
    secret = add(world, who="honsu", label="SECRET")
    with pytest.raises(NotFound):  # no relation to the case: as an unknown case
        vary(world, first, who="far")
    with pytest.raises(NotFound):  # a SECRET condition outside the corridor: as an unknown id
        vary(world, secret, who="com")
    with pytest.raises(NotFound):
        end(world, "not-an-id", TODAY)
    with pytest.raises(NotPermitted):  # may read the plan, may not write it
        vary(world, first, who="admin")
    assert rows(world) == 2
    vary(world, secret, who="honsu", reason="Corridor variation")
    assert [c.condition_type for c in current(world, "com")] == [licence.ConditionType.EM_GPS_TRAIL]


def test_cohort_totals_count_both_standards_from_readable_conditions(world) -> None:  # type: ignore[no-untyped-def]
    assert totals(world)[EM] == (0, 1, 0) and totals(world)[AP] == (0, 0, 1)
    add(world, kind="APPROVED_PREMISES", months=6)
    first = add(world, months=6)
    assert totals(world)[AP] == (1, 0, 0) and totals(world)[EM] == (0, 1, 0)
    vary(world, first, months=13)
    assert totals(world)[EM] == (1, 0, 0)
    # a SECRET approved-premises condition for over 12 months counts only in the corridor
    add(world, kind="APPROVED_PREMISES", months=15, who="honsu", label="SECRET")
    assert totals(world, "com")[AP] == (1, 0, 0)
    assert totals(world, "honsu")[AP] == (0, 1, 0)
    assert case_status(world, "honsu")[AP] == "not met"


def test_rows_from_before_0015_are_withheld_until_adopted_once(world, platform) -> None:  # type: ignore[no-untyped-def]
    cid = add(world, months=13)
    with platform.transaction() as s:  # the stamp the old code made: no type or dates
        row = s.execute(select(LicenceCondition.__table__).where(LicenceCondition.id == cid))
        values = row.mappings().one()
        added = dict((m, a) for _, m, a in WIDENED)[LicenceCondition]
        legacy = [n for n in attested_columns(LicenceCondition) if n not in added]
        old = attestor_of(s)._digest(LicenceCondition, [values[n] for n in legacy])
        s.execute(
            LicenceCondition.__table__.update()
            .where(LicenceCondition.id == cid)
            .values(facts_mac=old)
        )
    assert [c.withheld for c in current(world)] == [True]
    assert case_status(world)[EM] == "not met" and totals(world)[EM] == (0, 1, 0)
    with platform.transaction() as s:
        assert adopt_widened_stamps(s, platform.system_writer)["licence_conditions"] == 1
    assert [c.withheld for c in current(world)] == [False]
    assert case_status(world)[EM] == "met"
    with platform.transaction() as s:
        assert adopt_widened_stamps(s, platform.system_writer) == {}  # once only
