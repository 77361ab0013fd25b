"""Sign-in, second factor, replay, lockout, throttling, sessions, CSRF and security headers."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pyotp
import pytest
from sqlalchemy import select

from shareplatform.accounts.models import LoginThrottle, User, UserSession
from shareplatform.db import utcnow
from tests.support.factories import PASSWORD, TOTP, app_for, user
from tests.support.web import csrf_of, fresh_code, post_form, sign_in, text

# who signs in (each with PASSWORD and TOTP): role and traits
PEOPLE: dict[str, tuple[str, dict[str, object]]] = {
    "com.cole": ("COM", {"nsd_unit": "North"}),
    "com.evans": ("COM", {"nsd_unit": "North"}),
    "com.expired": ("COM", {"nsd_unit": "North", "expires": date.today() - timedelta(days=12)}),
    "pp.price": ("PROBATION_PRACTITIONER", {"nsd_unit": "North"}),
    "nm.nash": ("NOMINAL_MANAGER", {"ct_unit": "CTP North East"}),
}


def _person(platform, username: str) -> None:  # type: ignore[no-untyped-def]
    """One of PEOPLE (hashing a password is slow: a test makes only those it needs)."""
    role, traits = PEOPLE[username]
    with platform.transaction() as s:
        user(platform, s, username, role=role, password=PASSWORD, **traits)  # type: ignore[arg-type]


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    _person(platform, "com.cole")
    return platform


def _cookie(client, name: str = "sp_session") -> str | None:  # type: ignore[no-untyped-def]
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def test_sign_in_with_password_and_code_stores_only_a_hash(client, platform) -> None:  # type: ignore[no-untyped-def]
    page = sign_in(client, platform, "com.cole")
    assert page.status_code == 200
    assert "My caseload" in text(page)
    token = _cookie(client)
    assert token and len(token) >= 40
    with platform.transaction() as s:
        row = s.get(UserSession, hashlib.sha256(token.encode()).hexdigest())
        assert row is not None and row.mfa_done and row.ended_at is None
        assert s.scalar(select(UserSession).where(UserSession.id_hash == token)) is None


def test_password_alone_reaches_nothing(client, platform) -> None:  # type: ignore[no-untyped-def]
    r = post_form(client, "/sign-in", {"username": "com.cole", "password": PASSWORD})
    assert r.headers["Location"].startswith("/sign-in/code")
    r = client.get("/cases")
    assert r.status_code == 302 and r.headers["Location"].endswith("/sign-in/code")


def test_wrong_password_and_wrong_code_are_refused(client, platform) -> None:  # type: ignore[no-untyped-def]
    r = post_form(client, "/sign-in", {"username": "com.cole", "password": "wrong"})
    assert r.status_code == 400 and "Enter a correct username and password" in text(r)
    post_form(client, "/sign-in", {"username": "com.cole", "password": PASSWORD})
    r = post_form(client, "/sign-in/code", {"code": "000000"})
    assert r.status_code == 400 and "Enter the current 6-digit code" in text(r)


def test_a_used_code_is_refused(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    code = fresh_code(platform, "com.cole")
    post_form(client, "/sign-in", {"username": "com.cole", "password": PASSWORD})
    assert post_form(client, "/sign-in/code", {"code": code}).status_code == 302
    other = app.test_client()
    post_form(other, "/sign-in", {"username": "com.cole", "password": PASSWORD})
    r = post_form(other, "/sign-in/code", {"code": code})
    assert r.status_code == 400
    assert "Enter the current 6-digit code" in text(r)
    assert other.get("/cases").status_code == 302


def test_lockout_after_repeated_failures(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    _person(platform, "com.evans")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        r = post_form(client, "/sign-in", {"username": "com.evans", "password": "nope"})
    assert "Your account is locked" in text(r)
    r = post_form(client, "/sign-in", {"username": "com.evans", "password": PASSWORD})
    assert r.status_code == 400 and "Your account is locked" in text(r)
    # an unknown username locks the same way (nothing revealed about who exists)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        r = post_form(client, "/sign-in", {"username": "no.such.user", "password": "nope"})
    assert "Your account is locked" in text(r)


def test_throttle_is_shared_by_worker_processes(app, app_platform) -> None:  # type: ignore[no-untyped-def]
    # two app objects over one database stand for two worker processes
    first, second = app, app_for(app_platform)
    try:
        for each in (first, second):
            each.config["LOGIN_ADDRESS_MAX_FAILURES"] = 3
        a = first.test_client()
        for name in ("x.one", "x.two", "x.three"):
            post_form(a, "/sign-in", {"username": name, "password": "nope"})
        with app_platform.transaction() as s:
            assert s.get(LoginThrottle, "addr:127.0.0.1").count == 3
        b = second.test_client()
        r = post_form(b, "/sign-in", {"username": "com.cole", "password": PASSWORD})
        assert r.status_code == 400
        assert "too many failed sign-in attempts from your network" in text(r)
    finally:
        second.extensions["shareplatform"].db.dispose()


def _user(s, username: str) -> User:  # type: ignore[no-untyped-def]
    """A user loaded through the ORM: changes made to it are stamped as the services' are."""
    user = s.scalar(select(User).where(User.username == username))
    assert user is not None
    return user  # type: ignore[no-any-return]


def _age_session(platform, client, **values) -> None:  # type: ignore[no-untyped-def]
    token = _cookie(client)
    assert token
    with platform.transaction() as s:  # through the ORM, so the session row stays stamped
        row = s.get(UserSession, hashlib.sha256(token.encode()).hexdigest())
        for name, value in values.items():
            setattr(row, name, value)


def test_idle_timeout_ends_the_session(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    _age_session(platform, client, last_seen_at=utcnow() - timedelta(minutes=16))
    r = client.get("/cases")
    assert r.status_code == 302 and "reason=idle" in r.headers["Location"]
    assert _cookie(client) is None
    page = client.get(r.headers["Location"])
    assert "You were signed out because you had not done anything" in text(page)


def test_absolute_lifetime_ends_the_session(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    _age_session(platform, client, created_at=utcnow() - timedelta(hours=11))
    r = client.get("/cases")
    assert r.status_code == 302 and "reason=absolute" in r.headers["Location"]


def test_disabling_a_user_ends_their_sessions_at_once(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    other = app.test_client()
    sign_in(other, platform, "com.cole")
    with platform.transaction() as s:
        _user(s, "com.cole").disabled_at = utcnow()
    r = client.get("/cases")
    assert r.status_code == 302 and "reason=disabled" in r.headers["Location"]
    with platform.transaction() as s:
        uid = s.scalar(select(User.id).where(User.username == "com.cole"))
        open_sessions = s.scalars(
            select(UserSession).where(UserSession.user_id == uid, UserSession.ended_at.is_(None))
        ).all()
    assert open_sessions == []
    assert other.get("/cases").status_code == 302


def test_vetting_lapsing_ends_the_session(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    with platform.transaction() as s:
        _user(s, "com.cole").vetting_expires = date.today() - timedelta(days=1)
    r = client.get("/cases")
    assert r.status_code == 302 and "reason=vetting" in r.headers["Location"]


def test_expired_vetting_refuses_sign_in_with_an_explanation(client, platform) -> None:  # type: ignore[no-untyped-def]
    _person(platform, "com.expired")
    r = post_form(client, "/sign-in", {"username": "com.expired", "password": PASSWORD})
    assert r.status_code == 400
    assert "vetting expired on" in text(r)
    assert _cookie(client) is None


def test_sign_out_and_sign_out_everywhere(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    _person(platform, "nm.nash")
    page = sign_in(client, platform, "nm.nash")
    r = client.post("/sign-out", data={"csrf_token": csrf_of(text(page))})
    assert r.status_code == 302 and client.get("/cases").status_code == 302

    a, b = app.test_client(), app.test_client()
    sign_in(a, platform, "nm.nash")
    sign_in(b, platform, "nm.nash")
    account = a.get("/account")
    assert "Sign out everywhere" in text(account)
    r = a.post("/account/sign-out-everywhere", data={"csrf_token": csrf_of(text(account))})
    assert "reason=everywhere" in r.headers["Location"]
    assert b.get("/cases").status_code == 302


def test_enrolment_shows_a_qr_code_and_needs_a_valid_code(client, platform) -> None:  # type: ignore[no-untyped-def]
    _person(platform, "pp.price")  # enrolled, then told to enrol again
    with platform.transaction() as s:
        _user(s, "pp.price").must_enrol = True
    r = post_form(client, "/sign-in", {"username": "pp.price", "password": PASSWORD})
    assert r.headers["Location"].startswith("/sign-in/enrol")
    page = client.get("/sign-in/enrol")
    html = text(page)
    assert "<svg" in html and "Set up your authenticator app" in html
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", html).group(1).replace(" ", "")  # type: ignore[union-attr]
    assert secret != TOTP
    wrong = client.post(
        "/sign-in/enrol", data={"csrf_token": csrf_of(html), "code": pyotp.TOTP(TOTP).now()}
    )
    assert wrong.status_code == 400
    page = client.get("/sign-in/enrol")  # a new secret each showing
    html = text(page)
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", html).group(1).replace(" ", "")  # type: ignore[union-attr]
    r = client.post(
        "/sign-in/enrol", data={"csrf_token": csrf_of(html), "code": pyotp.TOTP(secret).now()}
    )
    assert r.status_code == 302
    assert client.get("/cases").status_code == 200
    with platform.transaction() as s:
        assert s.scalar(select(User.must_enrol).where(User.username == "pp.price")) is False


def test_csrf_is_enforced(client, platform) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/sign-in", data={"username": "com.cole", "password": PASSWORD})
    assert r.status_code == 400 and "The form had expired" in text(r)
    client.get("/sign-in")
    r = client.post(
        "/sign-in", data={"username": "com.cole", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert r.status_code == 400
    sign_in(client, platform, "com.cole")
    r = client.post("/account/sign-out-everywhere", data={})
    assert r.status_code == 400
    assert (
        client.get("/cases").status_code == 200
    )  # still signed in: the forged request did nothing


def test_security_headers_on_every_response(client, platform) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/sign-in")
    csp = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    html = text(page)
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)
    assert 'type="module"' in html
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in page.headers
    assert (
        client.get("/sign-in").headers["Content-Security-Policy"] != csp
    )  # a fresh nonce per request
    secure = client.get("/sign-in", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    with client.get("/assets/images/favicon.svg") as asset:
        assert asset.status_code == 200 and asset.headers["X-Content-Type-Options"] == "nosniff"
    with client.get("/static/govuk/govuk-frontend.min.css") as css:
        assert css.status_code == 200
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Content-Security-Policy" in missing.headers
