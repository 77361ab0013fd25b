"""The JSON API: the same services and decisions as the web, problem+json for every error."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from sqlalchemy import func, select

from shareplatform.accounts.models import User
from shareplatform.accounts.tokens import ApiToken
from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case, TeamMembership
from shareplatform.db import utcnow
from shareplatform.records.models import Record
from tests.api.conftest import bearer
from tests.security.demo_support import secret_items, shows_secret

NEW = {
    "record_type": "CONTACT_OFFICE",
    "occurred_on": "2024-03-01",
    "classification": "OFFICIAL-SENSITIVE",
    "title": "Office visit",
    "body": "Attended; discussed work.",
}


def _case_id(seeded, reference: str) -> str:  # type: ignore[no-untyped-def]
    with seeded.transaction() as session:
        return str(session.scalar(select(Case.id).where(Case.reference == reference)))


def _records(seeded) -> int:  # type: ignore[no-untyped-def]
    with seeded.transaction() as session:
        return session.scalar(select(func.count()).select_from(Record)) or 0


def _is_problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == status and body["title"] and body["type"]
    return body  # type: ignore[no-any-return]


def test_caseload_search_case_and_records(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole", "read"))
    load = client.get("/api/v1/caseload", headers=h).get_json()["items"]
    assert load and all(item["reference"].startswith("SP-") for item in load)
    first = load[0]
    hits = client.get("/api/v1/nominals", query_string={"q": first["name"]}, headers=h).get_json()[
        "items"
    ]
    assert first["id"] in {hit["case"]["id"] for hit in hits}
    detail = client.get(f"/api/v1/cases/{first['id']}", headers=h).get_json()
    assert detail["reference"] == first["reference"] and detail["team"] and detail["mappa_history"]
    assert (
        "SECRET" not in detail["writable_labels"]
    )  # frontline: never SECRET, whatever the vetting
    page = client.get(
        f"/api/v1/cases/{first['id']}/records", query_string={"page_size": 5}, headers=h
    ).get_json()
    assert len(page["items"]) == 5 and page["next_page"] == 2
    shown = [i["record"] for i in page["items"] if not i["withheld"]]
    assert all(r["label"]["classification"] != "SECRET" for r in shown)


def test_identifier_search_uses_the_blind_index(client, token_for) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("honsu.hughes", "read"))
    hits = client.get("/api/v1/nominals", query_string={"q": "X300000"}, headers=h).get_json()[
        "items"
    ]
    assert [hit["case"]["reference"] for hit in hits] == ["SP-1001"]
    assert hits[0]["nominal"]["identifiers"]["crn"] == "X300000"
    assert (
        client.get("/api/v1/nominals", query_string={"q": "X3000"}, headers=h).get_json()["items"]
        == []
    )


def test_frontline_token_never_receives_secret(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole", "read"))
    secret = secret_items(seeded)
    for case in client.get("/api/v1/caseload", headers=h).get_json()["items"]:
        page = client.get(
            f"/api/v1/cases/{case['id']}/records", query_string={"page_size": 200}, headers=h
        )
        assert page.status_code == 200
        assert shows_secret(page.get_data(as_text=True), secret, ids=True) == []
        for item in page.get_json()["items"]:
            if item["withheld"]:  # a notice never carries the label or content
                assert item["record"] is None and "SECRET" not in json.dumps(item)


def test_corridor_token_reads_secret_of_its_cases(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("honsu.hughes", "read"))
    cid = _case_id(seeded, "SP-1001")
    page = client.get(f"/api/v1/cases/{cid}/records", query_string={"page_size": 200}, headers=h)
    [minute] = [
        i
        for i in secret_items(seeded)
        if i.case_reference == "SP-1001" and i.kind == "record" and "Closed session" in i.text
    ]
    assert shows_secret(page.get_data(as_text=True), [minute], ids=True) == [minute]


def test_create_record_history_and_correction(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole"))
    cid = client.get("/api/v1/caseload", headers=h).get_json()["items"][0]["id"]
    created = client.post(
        f"/api/v1/cases/{cid}/records", json={**NEW, "caveats": ["ORCON"]}, headers=h
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    rec = created.get_json()
    assert created.headers["Location"].endswith(rec["id"])
    assert rec["label"] == {
        "classification": "OFFICIAL-SENSITIVE",
        "caveats": ["ORCON"],
        "marking": "OFFICIAL-SENSITIVE / ORCON",
    }
    assert rec["agency"] == "NSD" and rec["author"] == "Chris Cole"
    fixed = client.post(
        f"/api/v1/records/{rec['id']}/corrections", json={**NEW, "reason": "wrong date"}, headers=h
    )
    assert fixed.status_code == 201
    history = client.get(f"/api/v1/records/{rec['id']}/history", headers=h).get_json()
    assert [v["id"] for v in history["versions"]] == [rec["id"], fixed.get_json()["id"]]
    assert history["versions"][1]["correction_reason"] == "wrong date"
    # correcting the old version again clashes with the current state
    again = client.post(
        f"/api/v1/records/{rec['id']}/corrections", json={**NEW, "reason": "again"}, headers=h
    )
    assert "already been corrected" in _is_problem(again, 409)["detail"]
    with seeded.transaction() as session:
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "com.cole"))
        )
    assert {"record.create", "record.correct", "case.timeline"} <= actions or {
        "record.create",
        "record.correct",
    } <= actions


def test_401_missing_unknown_revoked_expired_and_disabled(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    assert _is_problem(client.get("/api/v1/me"), 401)
    assert client.get("/api/v1/me").headers["WWW-Authenticate"].startswith("Bearer")
    _is_problem(client.get("/api/v1/me", headers=bearer("spt_not-a-real-token")), 401)
    revoked, expired, disabled = (
        token_for("com.cole"),
        token_for("com.evans"),
        token_for("pom.parker"),
    )
    me = client.get("/api/v1/tokens", headers=bearer(revoked)).get_json()["items"][0]
    assert (
        client.delete(f"/api/v1/tokens/{me['id']}", headers=bearer(revoked)).get_json()["active"]
        is False
    )
    with seeded.transaction() as session:
        for t in session.scalars(
            select(ApiToken).where(
                ApiToken.user_id
                == select(User.id).where(User.username == "com.evans").scalar_subquery()
            )
        ):
            t.expires_at = utcnow() - timedelta(seconds=1)
        session.scalar(select(User).where(User.username == "pom.parker")).disabled_at = utcnow()  # type: ignore[union-attr]
    for raw in (revoked, expired, disabled):
        _is_problem(client.get("/api/v1/me", headers=bearer(raw)), 401)
    with seeded.transaction() as session:
        reasons = set(
            session.scalars(select(AuditEntry.reason).where(AuditEntry.action == "api.auth"))
        )
    assert {"revoked", "expired", "user disabled"} <= reasons


def test_403_read_only_token_cannot_write(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole", "read"))
    cid = client.get("/api/v1/caseload", headers=h).get_json()["items"][0]["id"]
    before = _records(seeded)
    body = _is_problem(client.post(f"/api/v1/cases/{cid}/records", json=NEW, headers=h), 403)
    assert "read-only" in body["detail"]
    assert _records(seeded) == before


def test_403_frontline_cannot_write_secret_and_explains(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole"))
    cid = client.get("/api/v1/caseload", headers=h).get_json()["items"][0]["id"]
    before = _records(seeded)
    body = _is_problem(
        client.post(
            f"/api/v1/cases/{cid}/records", json={**NEW, "classification": "SECRET"}, headers=h
        ),
        403,
    )
    assert body["detail"] and "SECRET-ONLY" not in body["detail"]
    assert _records(seeded) == before


def test_403_platform_role_and_expired_vetting(client, token_for) -> None:  # type: ignore[no-untyped-def]
    _is_problem(
        client.get("/api/v1/caseload", headers=bearer(token_for("auditor.adams", "read"))), 403
    )
    body = _is_problem(
        client.get("/api/v1/caseload", headers=bearer(token_for("com.expired", "read"))), 403
    )
    assert "vetting" in body["detail"]


def test_vetting_expiry_and_team_changes_apply_at_once(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole", "read"))
    cid = client.get("/api/v1/caseload", headers=h).get_json()["items"][0]["id"]
    assert client.get(f"/api/v1/cases/{cid}", headers=h).status_code == 200
    with seeded.transaction() as session:
        user_id = session.scalar(select(User.id).where(User.username == "com.cole"))
        for m in session.scalars(
            select(TeamMembership).where(
                TeamMembership.case_id == uuid.UUID(cid), TeamMembership.user_id == user_id
            )
        ):
            m.end_date = date.today() - timedelta(days=1)
    _is_problem(client.get(f"/api/v1/cases/{cid}", headers=h), 404)
    with seeded.transaction() as session:
        session.scalar(select(User).where(User.username == "com.cole")).vetting_expires = (  # type: ignore[union-attr]
            date.today() - timedelta(days=1)
        )
    _is_problem(client.get("/api/v1/caseload", headers=h), 403)


def test_404_identical_for_absent_and_not_yours(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.evans", "read"))
    london = _case_id(seeded, "SP-1029")  # not on com.evans's team, another unit
    absent = "00000000-0000-4000-8000-000000000000"
    a = _is_problem(client.get(f"/api/v1/cases/{absent}", headers=h), 404)
    b = _is_problem(client.get(f"/api/v1/cases/{london}", headers=h), 404)
    assert {k: v for k, v in a.items() if k != "instance"} == {
        k: v for k, v in b.items() if k != "instance"
    }
    c = _is_problem(client.get(f"/api/v1/cases/{london}/records", headers=h), 404)
    d = _is_problem(client.get(f"/api/v1/records/{absent}", headers=h), 404)
    assert c["detail"] == d["detail"] == a["detail"]
    _is_problem(client.get("/api/v1/cases/not-a-uuid", headers=h), 404)
    _is_problem(client.get("/api/v1/no-such-thing", headers=h), 404)


def test_405_keeps_allow(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    resp = client.put(
        f"/api/v1/cases/{_case_id(seeded, 'SP-1001')}/records",
        headers=bearer(token_for("com.cole")),
    )
    _is_problem(resp, 405)
    assert {"GET", "POST"} <= {m.strip() for m in resp.headers["Allow"].split(",")}


def test_400_field_errors_unknown_fields_and_bad_json(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole"))
    cid = client.get("/api/v1/caseload", headers=h).get_json()["items"][0]["id"]
    before = _records(seeded)
    body = _is_problem(
        client.post(f"/api/v1/cases/{cid}/records", json={**NEW, "colour": "red"}, headers=h), 400
    )
    assert body["errors"] == {"colour": ["Unknown field."]}
    body = _is_problem(
        client.post(f"/api/v1/cases/{cid}/records", json={"title": "x"}, headers=h), 400
    )
    assert {"record_type", "occurred_on", "classification", "body"} <= set(body["errors"])
    body = _is_problem(
        client.post(
            f"/api/v1/cases/{cid}/records", json={**NEW, "classification": "TOP SECRET"}, headers=h
        ),
        400,
    )
    assert "classification" in body["errors"]
    _is_problem(
        client.post(
            f"/api/v1/cases/{cid}/records",
            data="{not json",
            content_type="application/json",
            headers=h,
        ),
        400,
    )
    _is_problem(
        client.get(f"/api/v1/cases/{cid}/records", query_string={"sort": "x"}, headers=h), 400
    )
    _is_problem(
        client.get(f"/api/v1/cases/{cid}/records", query_string={"page": 0}, headers=h), 400
    )
    assert _records(seeded) == before


def test_413_oversized_body_writes_nothing(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole"))
    cid = client.get("/api/v1/caseload", headers=h).get_json()["items"][0]["id"]
    before = _records(seeded)
    huge = {**NEW, "body": "x" * (client.application.config["MAX_CONTENT_LENGTH"] + 10)}
    _is_problem(client.post(f"/api/v1/cases/{cid}/records", json=huge, headers=h), 413)
    assert _records(seeded) == before


def test_422_domain_rules_write_nothing(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole"))
    cid = client.get("/api/v1/caseload", headers=h).get_json()["items"][0]["id"]
    before = _records(seeded)
    future = (date.today() + timedelta(days=3)).isoformat()
    body = _is_problem(
        client.post(f"/api/v1/cases/{cid}/records", json={**NEW, "occurred_on": future}, headers=h),
        422,
    )
    assert "occurred_on" in body["errors"]
    body = _is_problem(
        client.post(
            f"/api/v1/cases/{cid}/records",
            json={**NEW, "record_type": "CONTACT_JOINT_VISIT"},
            headers=h,
        ),
        422,
    )
    assert "joint_agencies" in body["errors"]
    assert _records(seeded) == before


def test_429_rate_limit(app, token_for) -> None:  # type: ignore[no-untyped-def]
    app.config["API_RATE_LIMIT"] = 2
    client = app.test_client()
    h = bearer(token_for("com.cole", "read"))
    assert [client.get("/api/v1/me", headers=h).status_code for _ in range(2)] == [200, 200]
    resp = client.get("/api/v1/me", headers=h)
    _is_problem(resp, 429)
    assert int(resp.headers["Retry-After"]) >= 1


def test_api_reads_are_audited_as_the_token_user(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("honsu.hughes", "read"))
    cid = _case_id(seeded, "SP-1002")
    assert client.get(f"/api/v1/cases/{cid}/records", headers=h).status_code == 200
    with seeded.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "case.timeline", AuditEntry.case_id == cid
            )
        ).first()
    assert entry is not None and entry.actor == "honsu.hughes" and entry.label == "SECRET"


def test_openapi_document_validates(client) -> None:  # type: ignore[no-untyped-def]
    from openapi_spec_validator import validate

    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    spec = resp.get_json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    assert "/api/v1/cases/{case_id}/records" in spec["paths"]
