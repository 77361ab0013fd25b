"""Account recovery by one-time code; credentials that die with a reset, disabling and "sign out
everywhere"; changing your own password. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from shareplatform.accounts import admin, approvals, auth, recovery, tokens
from shareplatform.accounts.models import ApiToken, RecoveryCode, User, UserSession
from shareplatform.accounts.secrets import check_password
from shareplatform.audit.models import AuditEntry
from shareplatform.db import utcnow
from shareplatform.domain.errors import InvalidValue, NotPermitted
from shareplatform.platform import Platform
from tests.support.factories import PASSWORD, ctx_for, user

SETTINGS = auth.AuthSettings()
NEW_PASSWORD = "a brand new passphrase"


def _people(platform: Platform) -> None:
    with platform.transaction() as s:
        user(platform, s, "user.admin", role="USER_ADMIN", vetting="BPSS")
        user(platform, s, "user.admin2", role="USER_ADMIN", vetting="BPSS")
        user(platform, s, "com.cole", role="COM", nsd_unit="North", password=PASSWORD)
        user(platform, s, "honsu.hughes", role="HONSU", vetting="DV", nsd_unit="North")


def _by_name(session, username: str) -> User:  # type: ignore[no-untyped-def]
    return session.scalars(select(User).where(User.username == username)).one()


def _signed_in(platform: Platform, username: str, device: str = "laptop") -> tuple[str, str]:
    """A full session and a personal API token minted from it: (session id hash, token text)."""
    with platform.transaction() as s:
        who = _by_name(s, username)
        raw = auth._new_session(s, who, mfa_done=True, user_agent=device)
        _, token = tokens.create_token(s, platform.access, who, f"script on {device}", "read")
    return auth.token_hash(raw), token


def _token_works(platform: Platform, token: str) -> bool:
    with platform.transaction() as s:
        try:
            tokens.authenticate(s, platform.access, token)
        except tokens.TokenRejected:
            return False
    return True


def _open_sessions(platform: Platform, username: str) -> int:
    with platform.transaction() as s:
        uid = _by_name(s, username).id
        return len(
            s.scalars(
                select(UserSession).where(
                    UserSession.user_id == uid, UserSession.ended_at.is_(None)
                )
            ).all()
        )


def _redeem(platform: Platform, username: str, code: str) -> auth.Outcome:
    with platform.transaction() as s:
        return recovery.redeem(s, platform.access, SETTINGS, username, code, "10.0.0.1")


def _actions(platform: Platform, action: str) -> list[dict[str, object]]:
    with platform.transaction() as s:
        rows = s.scalars(
            select(AuditEntry).where(AuditEntry.action == action, AuditEntry.outcome == "done")
        ).all()
        return [json.loads(r.detail) for r in rows]


def test_a_reset_gives_a_one_time_code_that_kills_every_old_credential(platform: Platform) -> None:
    _people(platform)
    _, token = _signed_in(platform, "com.cole")
    with platform.transaction() as s:
        done = admin.reset_sign_in(ctx_for(platform, s, "user.admin"), "com.cole", "lost phone")
    assert done.applied and done.code
    # the old password, second factor, sessions and token are all dead
    assert _open_sessions(platform, "com.cole") == 0
    assert not _token_works(platform, token)
    with platform.transaction() as s:
        cole = _by_name(s, "com.cole")
        assert cole.password_hash is None and cole.totp_secret_sealed is None and cole.must_enrol
        stored = s.scalars(select(RecoveryCode).where(RecoveryCode.user_id == cole.id)).one()
        assert stored.code_hash == recovery.code_hash(done.code) and done.code not in str(
            stored.code_hash
        )
        assert (
            auth.password_step(s, platform.access, SETTINGS, "com.cole", PASSWORD, "10.0.0.2").ok
            is False
        )
    [entry] = _actions(platform, "user.reset_sign_in")
    assert entry["sessions_ended"] == 1 and entry["tokens_revoked"] == 1


def test_the_code_works_once_then_password_then_enrolment(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        code = admin.reset_sign_in(ctx_for(platform, s, "user.admin"), "com.cole").code
    assert not _redeem(platform, "com.cole", "WRONG-CODE").ok
    assert not _redeem(platform, "user.admin", code).ok  # someone else's code is no code
    used = _redeem(platform, "com.cole", code.lower().replace("-", " "))  # typed loosely
    assert used.ok and used.token and used.next_step == "password"
    again = _redeem(platform, "com.cole", code)
    assert not again.ok and again.message == recovery.CODE_FAILURE
    with platform.transaction() as s:
        active = auth.load_session(s, SETTINGS, used.token)
        assert isinstance(active, auth.ActiveSession) and not active.mfa_done
        # no second factor can be enrolled before the user's own password is chosen
        with pytest.raises(PermissionError):
            auth.begin_enrolment(s, platform.service_secrets, active)
        with pytest.raises(InvalidValue, match="at least"):
            recovery.choose_password(s, platform.access, active, "short", "short")
    with platform.transaction() as s, pytest.raises(InvalidValue, match="do not match"):
        recovery.choose_password(s, platform.access, active, NEW_PASSWORD, NEW_PASSWORD + "!")
    with platform.transaction() as s:
        recovery.choose_password(s, platform.access, active, NEW_PASSWORD, NEW_PASSWORD)
        assert auth.needs_enrolment(s, active) and not auth.needs_new_password(s, active)
        secret, _ = auth.begin_enrolment(s, platform.service_secrets, active)
        assert secret
    with platform.transaction() as s:
        cole = _by_name(s, "com.cole")
        assert check_password(cole.password_hash, NEW_PASSWORD) and cole.must_enrol
    assert [d["username"] for d in _actions(platform, "recovery.use")] == ["com.cole"]


def test_an_expired_code_does_not_work(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        code = admin.reset_sign_in(ctx_for(platform, s, "user.admin"), "com.cole", hours=1).code
        stored = s.scalars(select(RecoveryCode)).one()
        assert stored.expires_at - stored.issued_at == timedelta(hours=1)
    with platform.transaction() as s:
        outcome = recovery.redeem(
            s,
            platform.access,
            SETTINGS,
            "com.cole",
            code,
            "10.0.0.1",
            now=utcnow() + timedelta(hours=1, minutes=1),
        )
    assert not outcome.ok and outcome.message == recovery.CODE_FAILURE


def test_a_new_code_revokes_the_old_one(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        first = admin.reset_sign_in(ctx_for(platform, s, "user.admin"), "com.cole").code
    with platform.transaction() as s:
        second = admin.reset_sign_in(ctx_for(platform, s, "user.admin2"), "com.cole").code
    assert not _redeem(platform, "com.cole", first).ok
    assert _redeem(platform, "com.cole", second).ok


def test_a_disabled_users_code_opens_nothing(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        code = admin.reset_sign_in(ctx_for(platform, s, "user.admin"), "com.cole").code
        admin.disable_user(ctx_for(platform, s, "user.admin"), "com.cole", "left")
    outcome = _redeem(platform, "com.cole", code)
    assert not outcome.ok and "disabled" in outcome.message and outcome.token is None


def test_a_corridor_users_recovery_waits_for_a_second_administrator(platform: Platform) -> None:
    _people(platform)
    _, token = _signed_in(platform, "honsu.hughes")
    with platform.transaction() as s:
        asked = admin.reset_sign_in(
            ctx_for(platform, s, "user.admin"), "honsu.hughes", "new phone, forgot password"
        )
    assert not asked.applied and asked.code and asked.request_id
    # nothing changed yet: the code does not work, the old credentials do
    assert not _redeem(platform, "honsu.hughes", asked.code).ok
    assert _token_works(platform, token) and _open_sessions(platform, "honsu.hughes") == 1
    with platform.transaction() as s, pytest.raises(NotPermitted, match="different"):
        approvals.approve(ctx_for(platform, s, "user.admin"), asked.request_id)
    with platform.transaction() as s:
        approvals.approve(ctx_for(platform, s, "user.admin2"), asked.request_id)
    assert not _token_works(platform, token) and _open_sessions(platform, "honsu.hughes") == 0
    assert _redeem(platform, "honsu.hughes", asked.code).ok
    [entry] = _actions(platform, "user.reset_sign_in")
    assert entry["requested_by"] == "user.admin" and entry["tokens_revoked"] == 1
    with platform.transaction() as s:
        stored = s.scalars(select(RecoveryCode)).one()
        assert stored.approved_by == _by_name(s, "user.admin2").id


def test_second_factor_reset_and_disabling_revoke_tokens(platform: Platform) -> None:
    _people(platform)
    _, token = _signed_in(platform, "com.cole")
    with platform.transaction() as s:
        done = admin.reset_second_factor(ctx_for(platform, s, "user.admin"), "com.cole")
    assert done.applied and not _token_works(platform, token)
    assert _actions(platform, "user.reset_mfa")[0]["tokens_revoked"] == 1
    _, token = _signed_in(platform, "com.cole")
    with platform.transaction() as s:
        admin.disable_user(ctx_for(platform, s, "user.admin"), "com.cole", "left the service")
    with platform.transaction() as s:
        cole = _by_name(s, "com.cole")
        revoked = s.scalars(select(ApiToken).where(ApiToken.user_id == cole.id)).all()
        assert all(t.revoked_at is not None for t in revoked) and len(revoked) == 2
    assert _actions(platform, "user.disable")[0]["tokens_revoked"] == 1


def test_sign_out_everywhere_revokes_tokens(platform: Platform) -> None:
    _people(platform)
    id_hash, token = _signed_in(platform, "com.cole")
    _signed_in(platform, "com.cole", "phone")  # a second device
    with platform.transaction() as s:
        row = s.get(UserSession, id_hash)
        assert row is not None
        active = auth.ActiveSession(row.id_hash, row.user_id, True, row.created_at)
        assert auth.sign_out(s, platform.access, active, everywhere=True) == 2
    assert not _token_works(platform, token) and _open_sessions(platform, "com.cole") == 0
    with platform.transaction() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "signout")).one()
        assert json.loads(entry.detail)["tokens_revoked"] == 2


def test_users_change_their_own_password(platform: Platform) -> None:
    _people(platform)
    id_hash, token = _signed_in(platform, "com.cole")
    _signed_in(platform, "com.cole", "phone")  # another device, to be signed out
    with platform.transaction() as s:
        row = s.get(UserSession, id_hash)
        assert row is not None
        active = auth.ActiveSession(row.id_hash, row.user_id, True, row.created_at)
    with platform.transaction() as s:
        with pytest.raises(recovery.WrongPassword):
            recovery.change_password(
                s, platform.access, SETTINGS, active, "not it", NEW_PASSWORD, NEW_PASSWORD, None
            )
        assert _by_name(s, "com.cole").failed_logins == 1  # a guess counts as a failed sign-in
    with platform.transaction() as s, pytest.raises(InvalidValue, match="at least"):
        recovery.change_password(s, platform.access, SETTINGS, active, PASSWORD, "x", "x", None)
    with platform.transaction() as s:
        ended = recovery.change_password(
            s, platform.access, SETTINGS, active, PASSWORD, NEW_PASSWORD, NEW_PASSWORD, None
        )
    assert ended == {"sessions_ended": 1, "tokens_revoked": 2}
    assert _open_sessions(platform, "com.cole") == 1  # this one stays
    assert not _token_works(platform, token)
    with platform.transaction() as s:
        cole = _by_name(s, "com.cole")
        assert check_password(cole.password_hash, NEW_PASSWORD)
        assert not check_password(cole.password_hash, PASSWORD)
    assert _actions(platform, "password.change")[0]["sessions_ended"] == 1


def test_a_new_user_gets_a_code_not_a_password(platform: Platform) -> None:
    from shareplatform.accounts.services import NewUser

    _people(platform)
    with platform.transaction() as s:
        made = admin.add_user(
            ctx_for(platform, s, "user.admin"), NewUser("pom.new", "Pat", "POM", "BPSS", None)
        )
    assert made.applied and made.user is not None
    with platform.transaction() as s:
        assert _by_name(s, "pom.new").password_hash is None
    assert _redeem(platform, "pom.new", made.code).ok
