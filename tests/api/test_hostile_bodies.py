"""Hostile request bodies: every one a 4xx problem+json on the API (nothing written), never a
500; and a form field that cannot be stored is a 400 page (shareplatform/web/api.py
`check_body`, shareplatform/web/errors.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from shareplatform.audit.models import AuditEntry
from shareplatform.records.models import Record
from tests.api.conftest import bearer
from tests.support.web import post_form

NEW = {
    "record_type": "CONTACT_OFFICE",
    "occurred_on": "2024-03-01",
    "classification": "OFFICIAL-SENSITIVE",
    "title": "Office visit",
    "body": "Attended; discussed work.",
}
DEEP = 10_000


def _writes(seeded) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with seeded.transaction() as session:
        records = session.scalar(select(func.count()).select_from(Record)) or 0
        changes = (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.in_(["record.create", "record.correct"]))
            )
            or 0
        )
    return records, changes


def _problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


def _raw(value: object) -> bytes:
    """JSON text as a hostile client writes it: escapes such as \\ud800 kept verbatim."""
    return json.dumps(value).encode()


def _bodies() -> dict[str, tuple[bytes, int, str | None]]:
    """name -> (raw body, expected status, JSON pointer the answer names, when it names one)."""
    lone = _raw({**NEW, "title": "x"}).replace(b'"x"', b'"a\\ud800b"')
    lone_key = _raw({**NEW}).replace(b'"title"', b'"t\\udfffitle"', 1)
    nul_value = _raw({**NEW, "body": "a\\u0000b"}).replace(b"\\\\u0000", b"\\u0000")
    return {
        "nested arrays": (b"[" * DEEP + b"]" * DEEP, 400, None),
        "nested objects": (b'{"a":' * DEEP + b"1" + b"}" * DEEP, 400, None),
        "nested in a field": (
            _raw({**NEW, "caveats": "X"}).replace(b'"X"', b"[" * DEEP + b"]" * DEEP),
            400,
            None,
        ),
        "lone surrogate in a value": (lone, 400, "/title"),
        "lone surrogate in a key": (lone_key, 400, "/t\\udfffitle"),
        "invalid UTF-8": (_raw({**NEW, "title": "x"}).replace(b'"x"', b'"\xff\xfe"'), 400, None),
        "NUL escaped in a value": (nul_value, 400, "/body"),
        "NUL byte raw": (_raw({**NEW, "title": "x"}).replace(b'"x"', b'"a\x00b"'), 400, None),
    }


def _targets(client, h) -> list[str]:  # type: ignore[no-untyped-def]
    cid = client.get("/api/v1/caseload", headers=h).get_json()["items"][0]["id"]
    listed = client.get(f"/api/v1/cases/{cid}/records", headers=h).get_json()
    record_id = next(i["record"]["id"] for i in listed["items"] if i["record"])
    return [f"/api/v1/cases/{cid}/records", f"/api/v1/records/{record_id}/corrections"]


@pytest.mark.parametrize("name", list(_bodies()))
def test_hostile_body_is_a_4xx_problem_and_writes_nothing(client, token_for, seeded, name) -> None:  # type: ignore[no-untyped-def]
    raw, status, pointer = _bodies()[name]
    h = bearer(token_for("com.cole"))
    before = _writes(seeded)
    for url in _targets(client, h):
        body = _problem(
            client.post(url, data=raw, content_type="application/json", headers=h), status
        )
        if pointer is not None:
            assert list(body["errors"]) == [pointer], body
    # a route that takes no body refuses it all the same, before its view runs
    _problem(client.get("/api/v1/me", data=raw, content_type="application/json", headers=h), status)
    assert _writes(seeded) == before


def test_depth_limit_allows_ordinary_nesting(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole"))
    url = _targets(client, h)[0]
    shallow = _raw({**NEW, "caveats": "X"}).replace(b'"X"', b"[" * 31 + b"]" * 31)
    body = _problem(client.post(url, data=shallow, content_type="application/json", headers=h), 400)
    assert body["type"].endswith("validation")  # parsed, then refused by its schema
    deep = _raw({**NEW, "caveats": "X"}).replace(b'"X"', b"[" * 32 + b"]" * 32)
    body = _problem(client.post(url, data=deep, content_type="application/json", headers=h), 400)
    assert body["detail"] == "JSON nested too deeply."


def test_oversized_body_is_413_problem(client, token_for, seeded) -> None:  # type: ignore[no-untyped-def]
    h = bearer(token_for("com.cole"))
    before = _writes(seeded)
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    huge = b"[" * (limit + 10)
    for url in _targets(client, h):
        _problem(client.post(url, data=huge, content_type="application/json", headers=h), 413)
    assert _writes(seeded) == before


def test_unauthenticated_hostile_body_is_still_401(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/caseload", data=b"[" * DEEP, content_type="application/json")
    _problem(resp, 401)


def test_unstorable_form_field_is_a_400_page(client) -> None:  # type: ignore[no-untyped-def]
    # (a lone surrogate cannot arrive in a form: werkzeug leaves undecodable %-escapes as text)
    resp = post_form(client, "/sign-in", {"username": "a\x00b", "password": "x"})
    assert resp.status_code == 400, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "text/html"
    assert "cannot accept" in resp.get_data(as_text=True)
