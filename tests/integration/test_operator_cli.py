"""The operator's command line: the first administrators at first start (a one-time code, never a
password), break-glass disable, unlock and reset, and housekeeping; each audited as "system"
with the operator's OS user name."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from shareplatform.accounts import auth, recovery, tokens
from shareplatform.accounts.models import (
    ApiToken,
    LoginThrottle,
    RecoveryCode,
    User,
    UserSession,
    WebAuthnChallenge,
)
from shareplatform.audit.models import AuditEntry
from shareplatform.db import utcnow
from tests.support import factories as f

ADMIN = ["users", "create-admin", "--display-name", "Ada Admin"]


@pytest.fixture
def cli(platform):  # type: ignore[no-untyped-def]
    app = f.app_for(platform)

    def run(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        result = app.test_cli_runner().invoke(args=list(args))
        assert (result.exit_code == 0) is ok, result.output
        return result

    yield run
    app.extensions["shareplatform"].db.dispose()


def _code(output: str) -> str:
    return output.strip().splitlines()[-1]


def _entries(platform, action: str) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    """(actor, detail) of each audit entry of `action`."""
    with platform.transaction() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [(e.actor, json.loads(e.detail)) for e in rows]


def _redeem(platform, username: str, code: str) -> auth.Outcome:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return recovery.redeem(s, platform.access, auth.AuthSettings(), username, code, "10.0.0.1")


def test_create_admin_prints_a_one_time_code_and_stores_no_password(platform, cli) -> None:  # type: ignore[no-untyped-def]
    out = cli(*ADMIN, "--username", "ada").output
    code = _code(out)
    assert "USER_ADMIN ada created" in out and "/sign-in/recover" in out
    with platform.transaction() as s:
        ada = s.scalars(select(User).where(User.username == "ada")).one()
        assert (ada.role, ada.agency, ada.password_hash, ada.must_enrol) == (
            "USER_ADMIN",
            "PLATFORM",
            None,
            True,
        )
        stored = s.scalars(select(RecoveryCode).where(RecoveryCode.user_id == ada.id)).one()
        assert stored.code_hash == recovery.code_hash(code) and code not in stored.code_hash
        assert s.scalars(select(User)).all() == [ada]  # no demo data
    [(actor, detail)] = _entries(platform, "user.create")
    assert actor == "system" and detail["via"] == "command line"
    assert detail["operator"] and detail["role"] == "USER_ADMIN"
    assert code not in str(detail)
    done = _redeem(platform, "ada", code)
    assert done.ok and done.next_step == "password"  # they choose their own, then enrol


def test_first_start_window_closes_once_anyone_signs_in(platform, cli) -> None:  # type: ignore[no-untyped-def]
    first = _code(cli(*ADMIN, "--username", "ada").output)
    cli(*ADMIN, "--username", "pat", "--role", "POLICY_ADMIN")  # two-person rules need several
    assert _redeem(platform, "ada", first).ok
    refused = cli(*ADMIN, "--username", "eve", ok=False)
    assert "already signed in" in refused.output
    with platform.transaction() as s:
        assert s.scalar(select(User).where(User.username == "eve")) is None


def test_create_admin_refused_when_the_instance_has_users(platform, cli) -> None:  # type: ignore[no-untyped-def]
    wrong = cli(*ADMIN, "--username", "ada", "--agency", "NSD", ok=False)
    assert "User administrator belongs to PLATFORM" in wrong.output
    with platform.transaction() as s:
        f.user(platform, s, "com.cole", role="COM", nsd_unit="North")
    assert "already has users" in cli(*ADMIN, "--username", "ada", ok=False).output


def test_disable_unlock_and_reset(platform, cli) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    with platform.transaction() as s:
        com = f.user(platform, s, "com.cole", role="COM", nsd_unit="North")
        honsu = f.user(platform, s, "honsu.h", role="HONSU", vetting="DV", nsd_unit="North")
        s.add(UserSession(id_hash="a" * 64, user_id=com.id, created_at=now, last_seen_at=now))
        tokens.create_token(s, platform.access, com, "script", "read", by_system=True)
        honsu.locked_until, honsu.failed_logins = now + timedelta(minutes=10), 0
        s.add(LoginThrottle(key=auth._user_key("honsu.h"), window_start=now, count=9))

    assert (
        "1 sessions ended, 1 API tokens revoked"
        in cli("users", "disable", "com.cole", "--reason", "left the service").output
    )
    cli("users", "unlock", "honsu.h")
    with platform.transaction() as s:
        com = s.scalars(select(User).where(User.username == "com.cole")).one()
        assert com.disabled_at is not None
        assert s.get(UserSession, "a" * 64).ended_at is not None  # type: ignore[union-attr]
        assert all(t.revoked_at for t in s.scalars(select(ApiToken)))
        honsu = s.scalars(select(User).where(User.username == "honsu.h")).one()
        assert honsu.locked_until is None and s.get(LoginThrottle, "user:honsu.h") is None

    # a corridor account's recovery needs a second administrator in the app: here, an explicit ack
    assert "--privileged" in cli("users", "reset", "honsu.h", ok=False).output
    code = _code(cli("users", "reset", "honsu.h", "--privileged", "--reason", "lost phone").output)
    assert _redeem(platform, "honsu.h", code).ok
    for action in ("user.disable", "user.unlock", "user.reset_sign_in"):
        [(actor, detail)] = _entries(platform, action)
        assert actor == "system" and detail["operator"]
    assert cli("users", "disable", "nobody", "--reason", "x", ok=False).exit_code == 1


def test_housekeeping_deletes_only_what_is_over(platform, cli) -> None:  # type: ignore[no-untyped-def]
    now, old = utcnow(), utcnow() - timedelta(days=100)
    with platform.transaction() as s:
        u = f.user(platform, s, "com.cole", role="COM", nsd_unit="North")
        sessions = {
            "old-ended": dict(created_at=old, last_seen_at=old, ended_at=old),
            "old-idle": dict(created_at=old, last_seen_at=old),
            "live": dict(created_at=now, last_seen_at=now),
            "just-ended": dict(created_at=now, last_seen_at=now, ended_at=now),
        }
        for name, when in sessions.items():
            s.add(UserSession(id_hash=name.ljust(64, "x"), user_id=u.id, **when))
        s.add(LoginThrottle(key="addr:old", window_start=old, count=3))
        s.add(LoginThrottle(key="addr:new", window_start=now, count=3))
        for name, expires in (("gone", old), ("current", now + timedelta(days=5))):
            s.add(
                ApiToken(
                    id=uuid.uuid4(),
                    user_id=u.id,
                    name=name,
                    scope="read",
                    token_hash=uuid.uuid4().bytes * 2,
                    hint=name,
                    expires_at=expires,
                )
            )
        for name, expires in (("old", old), ("open", now + timedelta(minutes=5))):
            s.add(
                WebAuthnChallenge(
                    session_hash=name.ljust(64, "x"),
                    purpose="sign-in",
                    challenge=b"c" * 32,
                    expires_at=expires,
                )
            )
    out = cli("housekeeping").output
    assert "deleted 2 sessions, 1 throttle counters, 1 API tokens, 1 security-key challenges" in out
    with platform.transaction() as s:
        assert sorted(x.id_hash[:10].rstrip("x") for x in s.scalars(select(UserSession))) == [
            "just-ended",
            "live",
        ]
        assert [t.key for t in s.scalars(select(LoginThrottle))] == ["addr:new"]
        assert [t.name for t in s.scalars(select(ApiToken))] == ["current"]
        [challenge] = s.scalars(select(WebAuthnChallenge))
        assert challenge.session_hash.startswith("open")
    [(actor, detail)] = _entries(platform, "housekeeping")
    assert actor == "system" and detail["sessions"] == 2
    assert "deleted 0 sessions" in cli("housekeeping").output
