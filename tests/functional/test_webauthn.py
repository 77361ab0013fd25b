"""Security keys (WebAuthn) through the app: adding one (after a TOTP code), signing in with it,
single-use challenges, sign-count regression, CSRF on the JSON posts, removing keys, recovery and
the second-factor reset removing them, and the relying party from configuration. Signatures are
real (tests/support/webauthn.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from shareplatform.accounts import admin, webauthn
from shareplatform.accounts.models import User, WebAuthnChallenge, WebAuthnCredential
from shareplatform.audit.models import AuditEntry
from shareplatform.config import Config, ConfigError
from tests.factories import ctx_for
from tests.support.factories import PASSWORD, user
from tests.support.web import csrf_of, fresh_code, post_form, sign_in, text
from tests.support.webauthn import SoftKey


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        user(platform, s, "com.cole", role="COM", nsd_unit="North", password=PASSWORD)
        user(platform, s, "user.admin", role="USER_ADMIN", vetting="BPSS", password=PASSWORD)
    return platform


def _post_json(client, url: str, body: dict[str, Any], page: str):  # type: ignore[no-untyped-def]
    return client.post(url, json=body, headers={"X-CSRFToken": csrf_of(page)})


def add_key(client, platform, key: SoftKey, nickname: str = "Blue key"):  # type: ignore[no-untyped-def]
    """From the signed-in account page: options (with a fresh TOTP code), then the key's answer."""
    page = text(client.get("/account/keys"))
    code = fresh_code(platform, "com.cole")
    r = _post_json(client, "/account/keys/options", {"nickname": nickname, "code": code}, page)
    assert r.status_code == 200, text(r)
    credential = key.register(r.get_json())
    return _post_json(
        client, "/account/keys", {"nickname": nickname, "credential": credential}, page
    )


def password_only(client) -> str:  # type: ignore[no-untyped-def]
    r = post_form(client, "/sign-in", {"username": "com.cole", "password": PASSWORD})
    assert r.headers["Location"].startswith("/sign-in/code")
    return text(client.get("/sign-in/code"))


def key_options(client, page: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = _post_json(client, "/sign-in/key/options", {}, page)
    assert r.status_code == 200, text(r)
    return r.get_json()


def _actions(platform, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _enrolled(app, platform) -> tuple[Any, SoftKey]:  # type: ignore[no-untyped-def]
    owner = app.test_client()
    sign_in(owner, platform, "com.cole")
    key = SoftKey()
    r = add_key(owner, platform, key)
    assert r.status_code == 200, text(r)
    return owner, key


def test_add_a_key_then_sign_in_with_it(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    key = SoftKey()
    r = add_key(client, platform, key)
    assert r.status_code == 200, text(r)
    listing = text(client.get(r.get_json()["redirect"]))
    assert "Blue key" in listing and "added" in listing
    added = _actions(platform, "mfa.key.add")
    assert [e.outcome for e in added] == ["done"]

    person = app.test_client()
    page = password_only(person)
    assert "Use your security key" in page
    r = _post_json(
        person, "/sign-in/key", {"credential": key.sign(key_options(person, page))}, page
    )
    assert r.status_code == 200, text(r)
    assert r.get_json()["redirect"] == "/"
    assert "My caseload" in text(person.get("/", follow_redirects=True))
    used = _actions(platform, "signin.key")
    assert [e.outcome for e in used] == ["allow"]
    with platform.transaction() as s:
        stored = s.scalars(select(WebAuthnCredential)).one()
        assert stored.sign_count == 1 and stored.last_used_at is not None
        assert s.scalar(select(WebAuthnChallenge)) is None  # used up


def test_the_code_page_offers_no_key_to_a_user_without_one(client, platform) -> None:  # type: ignore[no-untyped-def]
    page = password_only(client)
    assert "Use your security key" not in page
    r = _post_json(client, "/sign-in/key/options", {}, page)
    assert r.status_code == 400


def test_adding_a_key_needs_a_current_code_and_a_name(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    page = text(client.get("/account/keys"))
    body = {"nickname": "Blue key", "code": "000000"}
    r = _post_json(client, "/account/keys/options", body, page)
    assert r.status_code == 400 and "6-digit code" in r.get_json()["error"]
    with platform.transaction() as s:
        cole = s.scalars(select(User).where(User.username == "com.cole")).one()
        assert cole.failed_logins == 1  # counted like any failed sign-in
    r = _post_json(client, "/account/keys/options", {"nickname": " ", "code": "1"}, page)
    assert r.status_code == 400 and "name" in r.get_json()["error"]


def test_a_locked_account_guesses_no_codes_when_adding_a_key(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    page = text(client.get("/account/keys"))
    for _ in range(5):  # LOGIN_MAX_FAILURES
        _post_json(client, "/account/keys/options", {"nickname": "k", "code": "000000"}, page)
    body = {"nickname": "k", "code": fresh_code(platform, "com.cole")}
    r = _post_json(client, "/account/keys/options", body, page)
    assert r.status_code == 400 and "locked" in r.get_json()["error"]


def test_json_posts_need_the_csrf_token(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    r = client.post("/account/keys/options", json={"nickname": "k", "code": "1"})
    assert r.status_code == 400
    assert _actions(platform, "mfa.key.add") == []


def test_a_challenge_answers_once(app, platform) -> None:  # type: ignore[no-untyped-def]
    _, key = _enrolled(app, platform)
    person = app.test_client()
    page = password_only(person)
    options = key_options(person, page)
    first = key.sign(options)
    replay = key.sign(options)  # a higher count, a valid signature, the same challenge
    assert _post_json(person, "/sign-in/key", {"credential": first}, page).status_code == 200
    other = app.test_client()
    page = password_only(other)
    key_options(other, page)  # its own challenge, which the replay does not answer
    r = _post_json(other, "/sign-in/key", {"credential": replay}, page)
    assert r.status_code == 400
    fails = _actions(platform, "signin.key")
    assert [e.outcome for e in fails] == ["allow", "fail"]


def test_a_sign_count_that_does_not_rise_is_refused(app, platform) -> None:  # type: ignore[no-untyped-def]
    _, key = _enrolled(app, platform)
    person = app.test_client()
    page = password_only(person)
    ok = key.sign(key_options(person, page), count=7)
    assert _post_json(person, "/sign-in/key", {"credential": ok}, page).status_code == 200

    clone = app.test_client()
    page = password_only(clone)
    stale = key.sign(key_options(clone, page), count=7)  # a copy of the key, behind the original
    r = _post_json(clone, "/sign-in/key", {"credential": stale}, page)
    assert r.status_code == 400
    refused = [e for e in _actions(platform, "signin.key") if e.outcome == "fail"]
    assert len(refused) == 1 and "sign count" in refused[0].reason.lower()
    with platform.transaction() as s:
        assert s.scalars(select(WebAuthnCredential)).one().sign_count == 7


def test_another_origin_or_another_key_is_refused(app, platform) -> None:  # type: ignore[no-untyped-def]
    _, key = _enrolled(app, platform)
    person = app.test_client()
    page = password_only(person)
    phished = key.sign(key_options(person, page), origin="https://share-platform.example")
    assert _post_json(person, "/sign-in/key", {"credential": phished}, page).status_code == 400
    stranger = SoftKey()
    stranger.credential_id = key.credential_id  # the right id, the wrong private key
    forged = stranger.sign(key_options(person, page))
    assert _post_json(person, "/sign-in/key", {"credential": forged}, page).status_code == 400
    assert "/sign-in" in person.get("/").headers["Location"]  # still not signed in


def test_remove_a_key_but_never_the_last_second_factor(app, platform) -> None:  # type: ignore[no-untyped-def]
    owner, _ = _enrolled(app, platform)
    with platform.transaction() as s:
        key_id = s.scalars(select(WebAuthnCredential.id)).one()
    page = text(owner.get("/account/keys"))
    r = owner.post(f"/account/keys/{key_id}/remove", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 302 and "removed=1" in r.headers["Location"]
    assert [e.outcome for e in _actions(platform, "mfa.key.remove")] == ["done"]
    assert "You have no security keys" in text(owner.get("/account/keys"))

    # the service refuses to remove a key that is the user's only second factor
    key2 = SoftKey()
    assert add_key(owner, platform, key2, "Spare").status_code == 200
    with platform.transaction() as s:
        cole = s.scalars(select(User).where(User.username == "com.cole")).one()
        cole.totp_secret_sealed, cole.must_enrol = None, True
    page = text(owner.get("/account/keys"))
    with platform.transaction() as s:
        key_id = s.scalars(select(WebAuthnCredential.id)).one()
    r = owner.post(f"/account/keys/{key_id}/remove", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 400 and "only second factor" in text(r)


@pytest.mark.parametrize("how", ["reset_sign_in", "reset_second_factor"])
def test_recovery_and_second_factor_reset_remove_the_keys(app, platform, how) -> None:  # type: ignore[no-untyped-def]
    _enrolled(app, platform)
    with platform.transaction() as s:
        getattr(admin, how)(ctx_for(platform, s, "user.admin"), "com.cole", "lost bag")
    with platform.transaction() as s:
        assert s.scalar(select(WebAuthnCredential)) is None
    entry = _actions(platform, "user.reset_sign_in" if how == "reset_sign_in" else "user.reset_mfa")
    assert json.loads(entry[-1].detail)["keys_removed"] == 1


def test_the_relying_party_comes_from_configuration(app, platform) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.accounts.webauthn_views import relying_party

    with app.test_request_context("/", base_url="https://share.example.gov.uk:8443"):
        assert relying_party() == webauthn.RelyingParty(
            "share.example.gov.uk", "https://share.example.gov.uk:8443"
        )
        app.config["PRODUCTION"] = True
        assert relying_party() is None  # production never trusts the Host header for this
        app.config.update(
            WEBAUTHN_RP_ID="example.gov.uk", WEBAUTHN_ORIGIN="https://share.example.gov.uk"
        )
        assert relying_party() == webauthn.RelyingParty(
            "example.gov.uk", "https://share.example.gov.uk"
        )
    app.config.update(PRODUCTION=False, WEBAUTHN_RP_ID="", WEBAUTHN_ORIGIN="")


def test_webauthn_settings_are_checked_at_start() -> None:
    good = Config(WEBAUTHN_RP_ID="example.gov.uk", WEBAUTHN_ORIGIN="https://share.example.gov.uk")
    assert good._general_problems() == []
    assert "set both" in Config(WEBAUTHN_RP_ID="example.gov.uk")._general_problems()[0]
    wrong = Config(WEBAUTHN_RP_ID="other.gov.uk", WEBAUTHN_ORIGIN="https://share.example.gov.uk")
    assert "not the host" in wrong._general_problems()[0]
    plain = Config(WEBAUTHN_RP_ID="example.gov.uk", WEBAUTHN_ORIGIN="http://share.example.gov.uk")
    assert any("WEBAUTHN_ORIGIN" in p for p in plain._unsafe())
    with pytest.raises(ConfigError):
        Config(WEBAUTHN_RP_ID="x").validate()
