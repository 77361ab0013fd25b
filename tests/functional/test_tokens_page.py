"""Your API tokens page: create (text shown once), list, revoke; validation keeps what was typed,
stores nothing; every change audited; someone else's token is a 404."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shareplatform.accounts.models import User
from shareplatform.accounts.tokens import ApiToken, hash_token
from shareplatform.audit.models import AuditEntry
from tests.support.factories import PASSWORD, user
from tests.support.web import csrf_of, post_form, sign_in, text

TOKEN = re.compile(r'id="token-text"[^>]*value="(spt_[A-Za-z0-9_-]+)"')


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    """Two COMs who sign in, neither holding a token."""
    with platform.transaction() as s:
        for username in ("com.cole", "com.evans"):
            user(platform, s, username, role="COM", nsd_unit="North", password=PASSWORD)
    return platform


def _tokens(platform, username: str) -> list[ApiToken]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        rows = list(s.scalars(select(ApiToken).where(ApiToken.user_id == uid)))
        s.expunge_all()
        return rows


def _audit(platform, action: str, object_id: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        rows = list(
            s.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == action, AuditEntry.object_id == object_id
                )
            )
        )
        s.expunge_all()
        return rows


def _create(client, **data: object):  # type: ignore[no-untyped-def]
    form = {"name": "Team dashboard", "scope": "read", "days": "30", **data}
    return post_form(client, "/account/tokens/new", form)


def test_create_shows_the_token_once_and_it_works(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    account = text(client.get("/account"))
    assert 'href="/account/tokens"' in account
    empty = client.get("/account/tokens")
    assert empty.status_code == 200 and "You have no API tokens" in text(empty)
    form = text(client.get("/account/tokens/new"))
    assert 'value="read" checked' in form and 'value="90"' in form  # defaults

    created = _create(client)
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    raw = TOKEN.search(text(created)).group(1)  # type: ignore[union-attr]
    [row] = _tokens(platform, "com.cole")
    assert row.token_hash == hash_token(raw) and row.scope == "read"
    assert 29 <= (row.expires_at - row.created_at).days <= 30
    [entry] = _audit(platform, "token.create", str(row.id))
    assert entry.actor == "com.cole" and entry.outcome == "done"

    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200 and api.get_json()["token_scope"] == "read"

    listing = text(client.get("/account/tokens"))
    assert raw not in listing  # shown once: never again
    assert "Team dashboard" in listing and "Read only" in listing and row.hint in listing
    assert "Active" in listing and "Never" not in listing
    [used] = _tokens(platform, "com.cole")
    assert used.last_used_at is not None
    assert f"{used.last_used_at:%-d %B %Y, %H:%M} UTC" in listing  # last used, as stored


def test_errors_keep_what_was_typed_and_store_nothing(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    r = _create(client, name="", days="ninety")
    html = text(r)
    assert r.status_code == 400 and "govuk-error-summary" in html
    assert "Enter a name for the token" in html
    assert "Enter a number of days from 1 to 365" in html
    assert 'value="ninety"' in html  # kept as typed
    r = _create(client, name="Reports", days="366", scope="read-write")
    html = text(r)
    assert r.status_code == 400 and "Enter a number of days from 1 to 365" in html
    assert 'value="Reports"' in html and 'value="read-write" checked' in html
    r = _create(client, name="Reports", scope="admin")
    assert r.status_code == 400 and "Not a valid choice" in text(r)
    assert _tokens(platform, "com.cole") == []

    assert _create(client, name="Reports").status_code == 200
    clash = _create(client, name="Reports")  # the service refuses a second live token of a name
    assert clash.status_code == 400 and "already have an active token with that name" in text(clash)
    assert len(_tokens(platform, "com.cole")) == 1

    # CSRF: a post without the token is refused and writes nothing
    assert (
        client.post(
            "/account/tokens/new", data={"name": "x", "scope": "read", "days": "1"}
        ).status_code
        == 400
    )
    assert len(_tokens(platform, "com.cole")) == 1


def test_revoke_stops_the_token_and_others_tokens_are_404(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    raw = TOKEN.search(text(_create(client))).group(1)  # type: ignore[union-attr]
    [mine] = _tokens(platform, "com.cole")

    other = app.test_client()
    sign_in(other, platform, "com.evans")
    page = text(other.get("/account/tokens"))
    assert "Team dashboard" not in page  # only your own tokens are listed
    r = other.post(f"/account/tokens/{mine.id}/revoke", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 404
    assert _tokens(platform, "com.cole")[0].revoked_at is None
    assert (
        other.post(
            "/account/tokens/not-a-uuid/revoke", data={"csrf_token": csrf_of(page)}
        ).status_code
        == 404
    )

    page = text(client.get("/account/tokens"))
    r = client.post(f"/account/tokens/{mine.id}/revoke", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 302
    after = text(client.get(r.headers["Location"]))
    assert "Token &#39;Team dashboard&#39; revoked" in after and "Revoked" in after
    assert f'action="/account/tokens/{mine.id}/revoke"' not in after  # no button once revoked
    assert _tokens(platform, "com.cole")[0].revoked_at is not None
    [entry] = _audit(platform, "token.revoke", str(mine.id))
    assert entry.actor == "com.cole"
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 401
    with platform.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ApiToken)) == 1
