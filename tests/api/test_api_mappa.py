"""MAPPA over the API: owners see their actions (frontline: only the sanitised break-out), the
corridor panel reads the decision log, and nobody else does."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from shareplatform.accounts import tokens
from shareplatform.accounts.models import User
from shareplatform.audit.models import AuditEntry
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
        # the team reads ordinary decisions: a log of only SECRET ones answers as an absent one
        assert denied.status_code in (403, 404)
        assert "DECISION-TEXT" not in denied.get_data(as_text=True)
    finally:
        app.extensions["shareplatform"].db.dispose()


DENIALS = ("route.deny", "mappa.disclosure.list")


def test_meetings_and_disclosures(platform) -> None:  # type: ignore[no-untyped-def]
    world = build_world(platform)
    with platform.transaction() as session:
        m = meeting(world, session)
        disclosure(world, session, meeting_id=m.id)
    raw = {}
    with platform.transaction() as session:
        for who in ("com", "honsu", "sol2", "far"):
            user = session.scalar(select(User).where(User.username == who))
            raw[who] = tokens.create_token(
                session, platform.access, user, "t", "read", by_system=True
            )[1]
    app = app_for(platform)
    client = app.test_client()

    def get(path: str, who: str):  # type: ignore[no-untyped-def]
        return client.get(f"/api/v1{path}", headers=bearer(raw[who]))

    try:
        # the corridor on the panel reads the disclosure record
        got = get(f"/cases/{world.case_id}/disclosures", "honsu")
        assert got.status_code == 200, got.get_data(as_text=True)
        [item] = got.get_json()["items"]
        assert item["summary"] == "DISCLOSURE-SUMMARY-TEXT" and item["meeting_id"] == str(m.id)
        assert item["reference"] == "SS/2025/REF-77" and item["originator"] == "SECURITY_SERVICE"
        assert item["label"]["classification"] == "SECRET"
        # frontline never (refused by the route, 403, nothing of it in the answer); nor a corridor
        # manager who is not on the panel (404, as for a case that does not exist)
        for who in ("com", "sol2"):
            denied = get(f"/cases/{world.case_id}/disclosures", who)
            body = denied.get_data(as_text=True)
            assert denied.status_code == (403 if who == "com" else 404), (who, body)
            assert "DISCLOSURE-SUMMARY" not in body and "REF-77" not in body
        with platform.transaction() as session:
            denials = session.scalars(
                select(AuditEntry.actor).where(
                    AuditEntry.outcome == "deny", AuditEntry.action.in_(DENIALS)
                )
            ).all()
        assert {"com", "sol2"} <= set(denials)  # each refusal audited as the token's user
        # no need to know at all: the case does not exist for them
        assert get(f"/cases/{world.case_id}/disclosures", "far").status_code == 404
        assert get(f"/cases/{world.case_id}/meetings", "far").status_code == 404

        # meetings: the team sees the open part, never the closed part nor who sat in it
        [listed] = get(f"/cases/{world.case_id}/meetings", "com").get_json()["items"]
        assert "OPEN-PART-TEXT" in listed["open_minutes"] and listed["closed_minutes"] is None
        assert [a["role"] for a in listed["attendees"]] == ["COM"]
        assert listed["decisions"] == [] and listed["highest"] == "OFFICIAL-SENSITIVE"
        one = get(f"/meetings/{m.id}", "com")
        assert one.status_code == 200 and "SECRET-CLOSED-TEXT" not in one.get_data(as_text=True)
        # the corridor on the panel gets the closed part of one meeting
        full = get(f"/meetings/{m.id}", "honsu").get_json()
        assert "SECRET-CLOSED-TEXT" in full["closed_minutes"] and full["highest"] == "SECRET"
        assert {a["role"] for a in full["attendees"]} == {"HONSU", "LRO", "COM"}
        assert get(f"/meetings/{uuid.uuid4()}", "honsu").status_code == 404
    finally:
        app.extensions["shareplatform"].db.dispose()
