"""Plan versions are numbered among those the reader may read (shareplatform/lifecycle/plans.py):
a SECRET version never shows outside the corridor as a gap ("Version 2" with no version 1), in the
plan list, the lifecycle outstanding items or the stale-plan alert."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shareplatform.cases.models import Case
from shareplatform.domain.errors import Conflict
from shareplatform.lifecycle import services as lc
from shareplatform.lifecycle.plans import plan_state
from tests.integration.test_lifecycle import TODAY, plan_data, post


@pytest.fixture
def numbered(platform):  # type: ignore[no-untyped-def]
    """Version 1 SECRET (by the SOL on the panel), version 2 OFFICIAL-SENSITIVE (by the COM),
    both older than the latest ERG 22+, so the newest plan each reader sees is stale."""
    from tests.integration.mappa_world import build_world

    world = build_world(platform)
    yesterday = TODAY - timedelta(days=1)
    with platform.transaction() as s:
        oasys = post(world, s, "ASSESSMENT_OASYS", 30)
        basis = [oasys.id]
        secret = lc.record_plan(
            world.ctx(s, "sol", yesterday),
            world.case_id,
            plan_data(basis, classification="SECRET", supervision="SECRET-PLAN-TEXT"),
        )
        sensitive = lc.record_plan(world.ctx(s, "com", yesterday), world.case_id, plan_data(basis))
        assert (secret.version, sensitive.version) == (1, 2)  # stored: the case's own sequence
        post(world, s, "ASSESSMENT_ERG", 0)
    return world, secret.id, sensitive.id


@pytest.mark.parametrize("who", ["com", "pom", "nm"])
def test_outside_the_corridor_the_secret_version_is_not_counted(numbered, who: str) -> None:  # type: ignore[no-untyped-def]
    world, _, sensitive_id = numbered
    with world.platform.transaction() as s:
        ctx = world.ctx(s, who)
        [view] = lc.plans_for_case(ctx, world.case_id)
        assert (view.id, view.version) == (sensitive_id, 1)
        assert view.alert.startswith("Version 1 of the plan")
        version, _, _, is_stale = plan_state(ctx, s.get(Case, world.case_id))
        assert (version, is_stale) == (1, True)
        [alert] = lc.plan_alerts(ctx, [world.case_id]).values()
        assert alert.startswith("Version 1 of the plan") and "SECRET" not in alert


def test_the_corridor_counts_every_version_it_may_read(numbered) -> None:  # type: ignore[no-untyped-def]
    world, secret_id, sensitive_id = numbered
    with world.platform.transaction() as s:
        ctx = world.ctx(s, "honsu")
        views = lc.plans_for_case(ctx, world.case_id)
        assert [(v.id, v.version) for v in views] == [(sensitive_id, 2), (secret_id, 1)]
        assert views[0].alert.startswith("Version 2 of the plan") and views[1].alert == ""
        assert views[1].text["supervision"] == "SECRET-PLAN-TEXT"
        assert plan_state(ctx, s.get(Case, world.case_id))[0] == 2


def test_a_replaced_version_is_refused_without_a_number(numbered) -> None:  # type: ignore[no-untyped-def]
    world, secret_id, _ = numbered
    with world.platform.transaction() as s, pytest.raises(Conflict) as refused:
        lc.countersign(world.ctx(s, "sol2"), secret_id)
    assert str(refused.value).startswith("A later version has replaced")
    assert not any(ch.isdigit() for ch in str(refused.value))
