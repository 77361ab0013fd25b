"""The administration pages through the Flask test client, signed in with the real forms."""

from __future__ import annotations

import re

from shareplatform.access import store
from shareplatform.platform import Platform
from tests.factories import app_for
from tests.support.web import post_form, sign_in, text

FRONTLINE_DENY = "p, frontline, *, read, SECRET, any, deny"


def _client(seeded: Platform, username: str):  # type: ignore[no-untyped-def]
    client = app_for(seeded).test_client()
    sign_in(client, seeded, username)
    return client


def _key_of(page: str, line: str) -> str:
    match = re.search(r'<option value="([^"]+)">' + re.escape(line) + "</option>", page)
    assert match, line
    return match.group(1).replace("&#34;", '"').replace("&quot;", '"')


def test_policy_change_needs_a_second_administrator_then_applies_and_rolls_back(
    seeded: Platform,
) -> None:
    admin1 = _client(seeded, "policy.admin")
    page = text(admin1.get("/admin/policy?role=POM&label=SECRET"))
    assert (
        FRONTLINE_DENY in page and "Sterile corridor" in page
    )  # filtered table with each line's reason
    r = post_form(
        admin1,
        "/admin/policy/drafts",
        {"description": "POMs read SECRET on their cases"},
        page=text(admin1.get("/admin/policy")),
    )
    assert r.status_code == 302
    draft_url = r.headers["Location"]
    page = text(admin1.get(draft_url))
    lines_url = draft_url + "/lines"
    post_form(
        admin1,
        lines_url,
        {
            "op": "add",
            "ptype": "p",
            "subject": "POM",
            "object": "record/*",
            "action": "read",
            "label": "SECRET",
            "condition": "team",
            "effect": "allow",
            "reason": "pilot",
        },
        page=page,
    )
    post_form(
        admin1, lines_url, {"op": "remove", "target": _key_of(page, FRONTLINE_DENY)}, page=page
    )
    page = text(admin1.get(draft_url))
    assert 'data-flag="secret_outside_corridor"' in page and "What if this applied" in page
    assert "Approve change" not in page  # the author is never offered approval

    r = post_form(admin1, draft_url + "/apply", {}, page=page)
    assert (
        "second+policy+administrator" in r.headers["Location"]
        or "second%20policy" in r.headers["Location"]
    )
    with seeded.transaction() as session:
        before = store.current_version(session)

    admin2 = _client(seeded, "policy.admin2")
    page = text(admin2.get(draft_url))
    assert "Approve change" in page
    post_form(admin2, draft_url + "/approve", {"reason": "agreed by the board"}, page=page)
    r = post_form(admin2, draft_url + "/apply", {}, page=text(admin2.get(draft_url)))
    assert r.status_code == 302 and "/admin/policy/versions" in r.headers["Location"]
    with seeded.transaction() as session:
        assert store.current_version(session) == before + 1
    versions = text(admin2.get("/admin/policy/versions"))
    assert 'data-version="2"' in versions and "agreed by the board" in versions

    r = post_form(
        admin1,
        "/admin/policy/versions/1/restore",
        {"reason": "pilot over"},
        page=text(admin1.get("/admin/policy/versions")),
    )
    assert r.status_code == 302 and "applied=3" in r.headers["Location"]
    with seeded.transaction() as session:
        assert FRONTLINE_DENY.split(", ", 1)[1] in [
            ", ".join(r.values) for r in store.load_rules(session)
        ]


def test_user_team_and_audit_pages(seeded: Platform) -> None:
    users = _client(seeded, "user.admin")
    page = text(users.get("/admin/users"))
    assert "com.expired" in page and 'id="expired"' in page
    page = text(users.get("/admin/users/com.evans"))
    r = post_form(users, "/admin/users/com.evans", {"action": "reset_mfa"}, page=page)
    assert "must enrol again" in text(r)
    page = text(users.get("/admin/teams?case=SP-1001"))
    assert "SP-1001" in page and "pom.parker" in page
    assert users.get("/admin/policy").status_code == 403
    assert users.get("/admin/audit").status_code == 403

    auditor = _client(seeded, "auditor.adams")
    page = text(auditor.get("/admin/audit"))
    assert "Log verified" in page and "data-redacted" in page
    assert "SECRET" not in re.sub(r"<select.*?</select>", "", page, flags=re.S).replace(
        "above your clearance", ""
    )
    export = auditor.get("/admin/audit/export.csv?case=SP-1001")
    assert export.status_code == 200 and export.headers["X-Classification"] in (
        "OFFICIAL",
        "OFFICIAL-SENSITIVE",
    )
    assert auditor.get("/admin/users").status_code == 403
