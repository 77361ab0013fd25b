"""The chairs' new fields over the API: an ordinary decision (no disclosure, OFFICIAL-SENSITIVE)
with its actions and their status history for the case team, and a meeting's supersession."""

from __future__ import annotations

from sqlalchemy import select

from shareplatform.accounts import tokens
from shareplatform.accounts.models import User
from shareplatform.mappa import models as m
from shareplatform.mappa.services import update_action, withdraw_meeting
from tests.api.conftest import bearer
from tests.factories import app_for
from tests.integration.mappa_world import build_world
from tests.integration.test_mappa_chairs import core_group, ordinary, record


def test_ordinary_decision_actions_and_supersession_over_the_api(platform) -> None:  # type: ignore[no-untyped-def]
    world = build_world(platform)
    with platform.transaction() as s:
        cg = core_group(world, s)
        dec = record(world, s, ordinary(world, cg.id))
        action = s.scalar(select(m.MappaAction.id).where(m.MappaAction.decision_id == dec.id))
        spare = core_group(world, s)
    with platform.transaction() as s:
        update_action(world.ctx(s, "com"), action, "IN_PROGRESS", "Started")
        withdraw_meeting(world.ctx(s, "sol"), spare.id, "Recorded twice")
    with platform.transaction() as s:
        user = s.scalar(select(User).where(User.username == "com"))
        raw = tokens.create_token(s, platform.access, user, "t", "read", by_system=True)[1]
    app = app_for(platform)
    client = app.test_client()
    try:
        log = client.get(f"/api/v1/cases/{world.case_id}/decisions", headers=bearer(raw))
        assert log.status_code == 200, log.get_data(as_text=True)
        [item] = log.get_json()["items"]
        assert item["id"] == str(dec.id) and item["disclosure_ids"] == []
        assert item["label"]["classification"] == "OFFICIAL-SENSITIVE"
        [act] = item["actions"]
        assert act["status"] == "IN_PROGRESS"
        assert [(h["from_status"], h["status"]) for h in act["history"]] == [
            (None, "OPEN"),
            ("OPEN", "IN_PROGRESS"),
        ]
        gone = client.get(f"/api/v1/meetings/{spare.id}", headers=bearer(raw)).get_json()
        assert gone["withdrawn"] and gone["superseded_reason"] == "Recorded twice"
        assert gone["superseded_by"] is None and gone["corrects"] is None
    finally:
        app.extensions["shareplatform"].db.dispose()
