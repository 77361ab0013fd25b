"""Account recovery by one-time code, and passwords the user alone chooses.

An administrator never sees or sets a reusable password. Resetting a user's sign-in kills their
password, second factor, sessions and API tokens at once and issues a random one-time code, kept
only as a hash, which the administrator passes on out of band. The code works once, for a
configured number of hours; using it opens a session that can do nothing but choose a new
password and then enrol a new second factor (shareplatform/accounts/auth.py, enrolment), so the
person who holds the code, not the administrator, ends up holding the account.

No Flask here: the web layer passes the session, settings, the client address and the clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as pysecrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..access.kernel import AccessLayer
from ..db import utcnow
from ..domain.errors import InvalidValue
from . import auth, secrets, webauthn
from .models import RecoveryCode, User

MIN_PASSWORD = 12
MAX_PASSWORD = 200
DEFAULT_HOURS = 4
CODE_FAILURE = "Enter your username and the recovery code your administrator gave you"


# -- codes --------------------------------------------------------------------------------------
def new_code() -> str:
    """128 random bits as 26 letters and digits in groups of four (easy to read out)."""
    text = base64.b32encode(pysecrets.token_bytes(16)).decode().rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def code_hash(code: str) -> str:
    """The stored form; spaces, hyphens and case do not matter when the code is typed."""
    normal = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def reset_sign_in(
    session: Session,
    user: User,
    hashed: str,
    *,
    issued_by: uuid.UUID | None,
    approved_by: uuid.UUID | None = None,
    hours: int = DEFAULT_HOURS,
    now: datetime | None = None,
) -> dict[str, int]:
    """Kill every credential of `user` and store the code whose hash is `hashed`.

    Returns what ended (sessions, tokens, older codes, security keys) for the caller's audit
    entry."""
    if hours < 1:
        raise InvalidValue("hours", hours, why="a recovery code lasts at least an hour")
    now = now or utcnow()
    older = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.used_at.is_(None),
            RecoveryCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    ).rowcount  # type: ignore[attr-defined]
    user.password_hash = None
    user.totp_secret_sealed, user.totp_last_step, user.must_enrol = None, None, True
    user.must_change_password = False
    user.failed_logins, user.locked_until = 0, None
    ended = auth.revoke_credentials(session, user.id, now)
    keys = webauthn.remove_all(session, user.id)  # security keys go with the TOTP secret
    session.add(
        RecoveryCode(
            id=uuid.uuid4(),
            user_id=user.id,
            code_hash=hashed,
            issued_by=issued_by,
            approved_by=approved_by,
            issued_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return {**ended, "codes_revoked": int(older or 0), "keys_removed": keys}


def redeem(
    session: Session,
    access: AccessLayer,
    settings: auth.AuthSettings,
    username: str,
    code: str,
    address: str | None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> auth.Outcome:
    """Use a recovery code: on success a session that may only choose a password, then enrol.

    Unknown users, wrong, used, revoked and expired codes are all answered alike, and count as
    failed sign-ins (lockout and address throttling apply)."""
    now = now or utcnow()
    username = (username or "").strip()
    message = auth.throttled(session, settings, address, now)
    if message:
        return auth.Outcome(False, message)
    user = session.scalar(select(User).where(User.username == username)) if username else None
    locked = auth._locked_message(session, settings, user, username, now)
    if locked:
        return auth.Outcome(False, locked)
    row = None
    if user is not None:
        row = session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.code_hash == code_hash(code), RecoveryCode.user_id == user.id
            )
        )
    usable = (
        row is not None
        and row.facts_intact  # a code row forged in the database opens nothing
        and row.used_at is None
        and row.revoked_at is None
        and row.expires_at > now
        and hmac.compare_digest(row.code_hash, code_hash(code))
    )
    if user is None or row is None or not usable:
        auth._fail(session, access, settings, user, username, address, "recovery", now)
        return auth.Outcome(
            False, auth._locked_message(session, settings, user, username, now) or CODE_FAILURE
        )
    # a used code never works again, even if what follows is refused
    claimed = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not claimed:
        return auth.Outcome(False, CODE_FAILURE)
    problem = (
        "This account has been disabled. Contact your user administrator."
        if user.disabled_at is not None
        else auth._vetting_problem(user, now.date())
    )
    auth.audit_user(session, access, user, "recovery.use", "deny" if problem else "done", problem)
    if problem:
        return auth.Outcome(False, problem)
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    token = auth._new_session(session, user, mfa_done=False, user_agent=user_agent)
    return auth.Outcome(True, token=token, next_step="password")


# -- passwords ----------------------------------------------------------------------------------
class WrongPassword(InvalidValue):
    """The current password was wrong. The failure is recorded: the caller commits, not rolls
    back."""

    def __init__(self) -> None:
        super().__init__("current", "", why="your current password is not right")


def check_new_password(password: str, confirm: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidValue("password", "", why=f"use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidValue("password", "", why=f"use {MAX_PASSWORD} characters or fewer")
    if password != confirm:
        raise InvalidValue("confirm", "", why="the passwords do not match")


def choose_password(
    session: Session,
    access: AccessLayer,
    active: auth.ActiveSession,
    password: str,
    confirm: str,
) -> None:
    """The first step after a recovery code: the user's own new password."""
    user = session.get(User, active.user_id)
    if user is None or not user.must_change_password or active.mfa_done:
        raise InvalidValue("password", "", why="sign in again")
    check_new_password(password, confirm)
    user.password_hash = secrets.hash_password(password)
    user.must_change_password = False
    auth.audit_user(session, access, user, "password.set", "done", "after a recovery code")


def change_password(
    session: Session,
    access: AccessLayer,
    settings: auth.AuthSettings,
    active: auth.ActiveSession,
    current: str,
    password: str,
    confirm: str,
    address: str | None,
    now: datetime | None = None,
) -> dict[str, int]:
    """A signed-in user changes their own password; their other sessions and every API token end.

    A wrong current password counts as a failed sign-in (so a stolen session cannot guess it)."""
    now = now or utcnow()
    user = session.get(User, active.user_id)
    if user is None or not active.mfa_done:
        raise InvalidValue("password", "", why="sign in again")
    if not secrets.check_password(user.password_hash, current):
        auth._fail(session, access, settings, user, user.username, address, "password.change", now)
        raise WrongPassword()
    check_new_password(password, confirm)
    if secrets.check_password(user.password_hash, password):
        raise InvalidValue("password", "", why="choose a password different from the current one")
    user.password_hash = secrets.hash_password(password)
    ended = auth.revoke_credentials(session, user.id, now, keep=active.id_hash)
    auth.audit_user(session, access, user, "password.change", "done", "", ended)
    return ended
