"""Account recovery through the pages: an administrator's one-time code, then the user's own new
password and authenticator app; changing your password; the Approvals page."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from shareplatform.accounts.models import User
from tests.support.factories import PASSWORD, user
from tests.support.web import csrf_of, post_form, sign_in, text

NEW_PASSWORD = "my own new passphrase"
CODE = re.compile(r"data-code>([A-Z2-7-]+)<")


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        for name in ("user.admin", "user.admin2"):
            user(platform, s, name, role="USER_ADMIN", vetting="BPSS", password=PASSWORD)
        user(
            platform,
            s,
            "com.evans",
            role="COM",
            vetting="BPSS",
            nsd_unit="North",
            password=PASSWORD,
        )
    return platform


def _reset_code(client, platform) -> str:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "user.admin")
    page = text(client.get("/admin/users/com.evans"))
    assert 'value="reset_password"' not in page  # no administrator-set password any more
    r = post_form(client, "/admin/users/com.evans", {"action": "reset_sign_in"}, page=page)
    assert r.status_code == 200
    found = CODE.search(text(r))
    assert found, text(r)[:2000]
    return found.group(1)


def test_code_then_new_password_then_second_factor(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    code = _reset_code(client, platform)
    # the old password no longer signs in
    person = app.test_client()
    r = post_form(person, "/sign-in", {"username": "com.evans", "password": PASSWORD})
    assert r.status_code == 400

    r = post_form(person, "/sign-in/recover", {"username": "com.evans", "code": "AAAA-BBBB"})
    assert r.status_code == 400 and "govuk-error-summary" in text(r)
    r = post_form(person, "/sign-in/recover", {"username": "com.evans", "code": code})
    assert r.status_code == 302 and r.headers["Location"].endswith("/sign-in/new-password")

    # nothing else until the password is chosen: not the cases, not enrolment
    assert person.get("/cases").status_code == 302
    assert person.get("/sign-in/enrol").headers["Location"].endswith("/sign-in/new-password")

    page = text(person.get("/sign-in/new-password"))
    r = post_form(
        person,
        "/sign-in/new-password",
        {"password": NEW_PASSWORD, "confirm": "something else entirely"},
        page=page,
    )
    assert r.status_code == 400 and "The passwords do not match" in text(r)
    assert "govuk-error-summary" in text(r)
    r = post_form(
        person,
        "/sign-in/new-password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page=text(r),
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/sign-in/enrol")

    html = text(person.get("/sign-in/enrol"))
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", html).group(1).replace(" ", "")  # type: ignore[union-attr]
    r = post_form(person, "/sign-in/enrol", {"code": pyotp.TOTP(secret).now()}, page=html)
    assert r.status_code == 302 and "/sign-in" not in r.headers["Location"]
    assert "My caseload" in text(person.get("/", follow_redirects=True))

    # the code was single use
    again = app.test_client()
    r = post_form(again, "/sign-in/recover", {"username": "com.evans", "code": code})
    assert r.status_code == 400
    with platform.transaction() as s:
        evans = s.scalars(select(User).where(User.username == "com.evans")).one()
        assert not evans.must_enrol and not evans.must_change_password


def test_users_change_their_own_password(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.evans")
    other = app.test_client()
    sign_in(other, platform, "com.evans")
    page = text(client.get("/account/password"))
    r = post_form(
        client,
        "/account/password",
        {"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page=page,
    )
    assert r.status_code == 400 and "Your current password is not right" in text(r)
    assert "govuk-error-summary" in text(r)
    r = post_form(
        client,
        "/account/password",
        {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page=text(r),
    )
    assert r.status_code == 200 and "Password changed" in text(r)
    assert "1 other session ended" in text(r)
    assert client.get("/account").status_code == 200  # still signed in here
    assert other.get("/account").status_code == 302  # signed out there


def test_a_second_administrator_approves_on_the_approvals_page(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "user.admin")
    page = text(client.get("/admin/users/com.evans"))
    r = post_form(
        client,
        "/admin/users/com.evans",
        {
            "action": "update",
            "display_name": "Eve Evans",
            "role": "COM",
            "vetting": "SC",
            "nsd_unit": "North",
            "change_reason": "cleared for SECRET",
        },
        page=page,
    )
    assert "A second administrator must approve this change" in text(r)
    mine = text(client.get("/admin/approvals"))
    assert "com.evans" in mine and 'value="approve"' not in mine and 'value="withdraw"' in mine

    second = app.test_client()
    sign_in(second, platform, "user.admin2")
    page = text(second.get("/admin/approvals"))
    request_id = re.search(r'name="request" value="([0-9a-f-]+)"', page).group(1)  # type: ignore[union-attr]
    r = second.post(
        "/admin/approvals",
        data={"csrf_token": csrf_of(page), "request": request_id, "action": "approve"},
    )
    assert r.status_code == 302
    assert "No requests are waiting" in text(second.get(r.headers["Location"]))
    with platform.transaction() as s:
        evans = s.scalars(select(User).where(User.username == "com.evans")).one()
        assert evans.vetting == "SC"
