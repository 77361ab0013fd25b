"""The case summary's "Next MAPPA review" is the one set at the latest meeting still standing
(shareplatform/briefing/services.py), for a reader who may read the case's open meetings; a
withdrawn or corrected meeting's date no longer counts. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shareplatform.briefing.services import case_summary
from shareplatform.cases.services import case_view
from shareplatform.mappa.services import (
    Attendee,
    NewMeeting,
    correct_meeting,
    record_meeting,
    withdraw_meeting,
)
from tests.integration.mappa_world import World, build_world

TODAY = date.today()


def _meeting(world: World, review_in: int, held_ago: int = 1) -> NewMeeting:
    return NewMeeting(
        "CORE_GROUP",
        TODAY - timedelta(days=held_ago),
        world.ids["sol"],
        None,
        [Attendee("NSD", "SOL", user_id=world.ids["sol"])],
        "Open part: REVIEW-SET.",
        next_review=TODAY + timedelta(days=review_in),
    )


def _review(world: World, who: str) -> date | None:
    with world.platform.transaction() as s:
        ctx = world.ctx(s, who)
        dates = {d.title: d for d in case_summary(ctx, case_view(ctx, world.case_id)).key_dates}
    return dates["Next MAPPA review"].on


@pytest.fixture
def world(platform) -> World:  # type: ignore[no-untyped-def]
    return build_world(platform)


def test_the_latest_meeting_sets_the_next_review(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        record_meeting(world.ctx(s, "sol"), world.case_id, _meeting(world, 30))
    for who in ("com", "pom", "honsu"):  # team and panel: each may read the open meetings
        assert _review(world, who) == TODAY + timedelta(days=30), who


def test_a_withdrawn_or_corrected_meeting_s_date_no_longer_counts(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        sol = world.ctx(s, "sol")
        earlier = record_meeting(sol, world.case_id, _meeting(world, 20, held_ago=10))
        latest = record_meeting(sol, world.case_id, _meeting(world, 30))
    assert _review(world, "com") == TODAY + timedelta(days=30)
    with world.platform.transaction() as s:
        withdraw_meeting(world.ctx(s, "sol"), latest.id, "Recorded twice by mistake")
    assert _review(world, "com") == TODAY + timedelta(days=20)
    with world.platform.transaction() as s:
        fixed = _meeting(world, 45, held_ago=10)
        correct_meeting(world.ctx(s, "sol"), earlier.id, fixed, "The review date was wrong")
    assert _review(world, "com") == TODAY + timedelta(days=45)
