"""Ordinary MAPPA decisions beside SECRET ones: the case team reads the ordinary, and nothing they
are shown (the log, a decision's versions, a meeting's decisions, the case timeline's actions,
a meeting's supersession) names or counts a SECRET one. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shareplatform.cases.models import Case
from shareplatform.domain.errors import NotFound
from shareplatform.mappa import models as m
from shareplatform.mappa.services import (
    case_actions,
    correct_decision,
    decision_log,
    decision_page,
    meeting_view,
    prepare_correction,
)
from tests.integration.mappa_world import build_world, disclosure
from tests.integration.test_mappa_chairs import core_group, ordinary, record


@pytest.fixture
def corrected_into_secret(platform):  # type: ignore[no-untyped-def]
    """An ordinary decision that its chair corrected to rest on a SECRET disclosure."""
    world = build_world(platform)
    with platform.transaction() as s:
        cg = core_group(world, s)
        original = record(world, s, ordinary(world, cg.id))
        dc = disclosure(world, s)
    data = ordinary(world, cg.id, disclosure_ids=[dc.id], decision="SECRET-SUCCESSOR-TEXT")
    with platform.transaction() as s:
        ctx = world.ctx(s, "sol")
        token = prepare_correction(ctx, original.id, data, "A disclosure bears on it").token
        successor = correct_decision(ctx, original.id, data, "A disclosure bears on it", token)
        assert successor.classification == "SECRET"
    return world, cg.id, original.id, successor.id


@pytest.mark.parametrize("who", ["com", "pom", "admin", "nm"])
def test_a_secret_correction_is_never_named_to_the_team(corrected_into_secret, who) -> None:  # type: ignore[no-untyped-def]
    world, cg, original, successor = corrected_into_secret
    with world.platform.transaction() as s:
        ctx = world.ctx(s, who)
        view, chain = decision_page(ctx, original)
        assert view.superseded_by_id is None and [v.id for v in chain] == [original]
        assert [d.id for d in decision_log(ctx, world.case_id)] == [original]
        assert meeting_view(ctx, cg).decisions == [original]
        with pytest.raises(NotFound):
            decision_page(ctx, successor)
        shown = case_actions(ctx, s.get(Case, world.case_id))
        ids = set(s.scalars(select(m.MappaAction.id).where(m.MappaAction.decision_id == successor)))
        assert not ids & {a.id for a in shown}


def test_the_corridor_sees_the_whole_chain(corrected_into_secret) -> None:  # type: ignore[no-untyped-def]
    world, _cg, original, successor = corrected_into_secret
    with world.platform.transaction() as s:
        view, chain = decision_page(world.ctx(s, "sol"), original)
        assert view.superseded_by_id == successor and [v.id for v in chain] == [original, successor]
        newer, _ = decision_page(world.ctx(s, "honsu"), successor)
        assert newer.supersedes_id == original and newer.decision == "SECRET-SUCCESSOR-TEXT"
