"""A user administrator unlocks an account locked by failed sign-ins; audited; nobody else can."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shareplatform.accounts.models import User
from shareplatform.audit.models import AuditEntry
from tests.support.factories import PASSWORD, user
from tests.support.web import csrf_of, post_form, sign_in, text

PAGE = "/admin/users/com.evans"


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    """A user administrator and two COMs, every one able to sign in."""
    with platform.transaction() as s:
        user(platform, s, "user.admin", role="USER_ADMIN", vetting="BPSS", password=PASSWORD)
        for username in ("com.evans", "com.cole"):
            user(platform, s, username, role="COM", nsd_unit="North", password=PASSWORD)
    return platform


def _state(platform) -> tuple[object, int]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        row = s.scalar(select(User).where(User.username == "com.evans"))
        assert row is not None
        return row.locked_until, row.failed_logins


def _lock(app, platform) -> None:  # type: ignore[no-untyped-def]
    victim = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        r = post_form(victim, "/sign-in", {"username": "com.evans", "password": "wrong-password"})
    assert "Your account is locked" in text(r)
    assert _state(platform)[0] is not None


def test_a_user_admin_unlocks_a_locked_account(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    _lock(app, platform)
    # someone without the user administrator's capability cannot unlock
    other = app.test_client()
    sign_in(other, platform, "com.cole")
    home = text(other.get("/account"))
    denied = other.post(PAGE, data={"csrf_token": csrf_of(home), "action": "unlock"})
    assert denied.status_code == 403
    assert _state(platform)[0] is not None

    sign_in(client, platform, "user.admin")
    page = text(client.get(PAGE))
    assert 'id="locked-until"' in page and "too many failed sign-ins" in page
    assert 'value="unlock"' in page
    r = client.post(PAGE, data={"csrf_token": csrf_of(page), "action": "unlock"})
    after = text(r)
    assert r.status_code == 200 and "Account unlocked." in after
    assert 'id="locked-until"' not in after and 'value="unlock"' not in after
    assert _state(platform) == (None, 0)
    with platform.transaction() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "user.unlock")))
        assert [(e.actor, e.outcome) for e in entries] == [
            ("user.admin", "allow"),
            ("user.admin", "done"),
        ]
        assert '"was_locked":true' in entries[-1].detail.replace(" ", "")

    # the owner signs in at once with the right password and code
    landing = sign_in(app.test_client(), platform, "com.evans", PASSWORD)
    assert landing.status_code == 200


def test_unlocking_an_unlocked_account_says_so(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "user.admin")
    page = text(client.get(PAGE))
    assert 'id="locked-until"' not in page and 'value="unlock"' not in page
    r = client.post(PAGE, data={"csrf_token": csrf_of(page), "action": "unlock"})
    assert r.status_code == 200 and "The account was not locked." in text(r)
