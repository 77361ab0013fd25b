"""MAPPA over the API: owners see their actions (frontline: only the sanitised break-out), the
corridor panel reads the decision log, and nobody else does."""

from __future__ import annotations

from sqlalchemy import select

from shareplatform.accounts import tokens
from shareplatform.accounts.models import User
from tests.api.conftest import bearer
from tests.factories import app_for
from tests.integration.mappa_world import build_world, decide, decision_data, disclosure, meeting


def test_actions_and_decision_log(platform) -> None:  # type: ignore[no-untyped-def]
    world = build_world(platform)
    with platform.transaction() as session:
        m = meeting(world, session)
        d = disclosure(world, session)
        decide(world, session, decision_data(world, m.id, [d.id]))
    raw = {}
    with platform.transaction() as session:
        for who in ("com", "honsu"):
            user = session.scalar(select(User).where(User.username == who))
            raw[who] = tokens.create_token(
                session, platform.access, user, "t", "read", by_system=True
            )[1]
    app = app_for(platform)
    client = app.test_client()
    try:
        mine = client.get("/api/v1/actions", headers=bearer(raw["com"]))
        assert mine.status_code == 200
        assert "ACTION-ONE-SECRET" not in mine.get_data(as_text=True)
        [item] = mine.get_json()["items"]
        assert item["from_breakout"] and item["text"].startswith("BREAKOUT-TEXT")
        assert item["label"]["classification"] == "OFFICIAL-SENSITIVE"
        log = client.get(f"/api/v1/cases/{world.case_id}/decisions", headers=bearer(raw["honsu"]))
        assert log.status_code == 200, log.get_data(as_text=True)
        [decision] = log.get_json()["items"]
        assert decision["decision"].startswith("DECISION-TEXT") and decision["verified"]
        assert decision["label"]["classification"] == "SECRET"
        denied = client.get(f"/api/v1/cases/{world.case_id}/decisions", headers=bearer(raw["com"]))
        assert denied.status_code == 403 and "DECISION-TEXT" not in denied.get_data(as_text=True)
    finally:
        app.extensions["shareplatform"].db.dispose()
