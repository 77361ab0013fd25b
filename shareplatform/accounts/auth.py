"""Signing in: password (argon2id), TOTP second factor, lockout, throttling, server-side sessions.

No Flask here: the web layer passes the session, settings, the client address and the clock.
A session token is a random value; only its SHA-256 is stored, so a copy of the database cannot
be replayed as a cookie. Counters live in the database so every worker process shares them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as pysecrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyotp
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..access.kernel import AccessLayer
from ..audit.log import Event
from ..crypto.service_secrets import ServiceSecrets
from ..db import utcnow
from ..domain.labels import Classification
from ..domain.vetting import Vetting, VettingStatus
from . import secrets
from .models import LoginThrottle, User, UserSession

TOTP_PERIOD = 30
ISSUER = "Share platform"


@dataclass(frozen=True)
class AuthSettings:
    max_failures: int = 5  # consecutive failures before an account locks
    lockout_minutes: int = 15
    address_max_failures: int = 20  # failures from one address per window, across all accounts
    idle_minutes: int = 15
    absolute_hours: int = 10

    @classmethod
    def from_mapping(cls, config: object) -> AuthSettings:
        get = config.get  # type: ignore[attr-defined]
        max_failures = int(get("LOGIN_MAX_FAILURES", 5))
        return cls(
            max_failures=max_failures,
            lockout_minutes=int(get("LOGIN_LOCKOUT_MINUTES", 15)),
            address_max_failures=int(get("LOGIN_ADDRESS_MAX_FAILURES", max_failures * 4)),
            idle_minutes=int(get("SESSION_IDLE_MINUTES", 15)),
            absolute_hours=int(get("SESSION_ABSOLUTE_HOURS", 10)),
        )


@dataclass(frozen=True)
class Outcome:
    """The result of a sign-in step. `message` is safe to show; `token` is set on success."""

    ok: bool
    message: str = ""
    token: str | None = None
    next_step: str = ""  # "code", "enrol" or "done"


@dataclass(frozen=True)
class ActiveSession:
    id_hash: str
    user_id: uuid.UUID
    mfa_done: bool
    created_at: datetime


@dataclass(frozen=True)
class Ended:
    code: str  # idle, absolute, disabled, vetting: the sign-in page says why

    @property
    def message(self) -> str:
        return SIGNED_OUT.get(self.code, "")


SIGNED_OUT = {
    "idle": "You were signed out because you had not done anything for a while.",
    "absolute": "You were signed out because your session reached its maximum length.",
    "disabled": "You were signed out because your account was disabled.",
    "vetting": "You were signed out because your vetting has expired.",
    "signed-out": "You have signed out.",
    "everywhere": "You have signed out on every device.",
}


GENERIC_FAILURE = "Enter a correct username and password"
WRONG_CODE = "Enter the current 6-digit code from your authenticator app"
LOCKED = (
    "Your account is locked after too many failed attempts. Try again after {until} "
    "(UTC), or ask your user administrator to unlock it."
)
THROTTLED = (
    "There have been too many failed sign-in attempts from your network. "
    "Wait {minutes} minutes and try again."
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit_sign_in(
    session: Session,
    access: AccessLayer,
    action: str,
    outcome: str,
    object_id: str = "",
    reason: str = "",
    detail: Mapping[str, object] | None = None,
) -> None:
    """Audit a step of signing in or out: no subject, the user is not (or no longer) signed in."""
    access.record(
        session,
        None,
        Event(
            action=action,
            object_type="user",
            outcome=outcome,
            label=Classification.OFFICIAL,
            object_id=object_id,
            reason=reason,
            detail=dict(detail or {}),
        ),
    )


def audit_user(
    session: Session,
    access: AccessLayer,
    user: User,
    action: str,
    outcome: str,
    reason: str = "",
    detail: Mapping[str, object] | None = None,
) -> None:
    """Audit a change to `user`'s own credentials, naming the account in the detail."""
    named = {"username": user.username, **(detail or {})}
    audit_sign_in(session, access, action, outcome, str(user.id), reason, named)


def _new_session(session: Session, user: User, mfa_done: bool, user_agent: str | None) -> str:
    token = pysecrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            id_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            mfa_done=mfa_done,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    return token


# -- throttling (shared by every worker: counters in login_throttle) -------------------------
def _count(session: Session, key: str, window: timedelta, now: datetime) -> int:
    row = session.get(LoginThrottle, key)
    if row is None or row.window_start + window <= now:
        return 0
    return row.count


def _hit(session: Session, key: str, window: timedelta, now: datetime) -> None:
    """Add one failure to a counter with an atomic UPDATE (concurrent workers never lose a hit)."""
    fresh = now - window
    done = session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key, LoginThrottle.window_start > fresh)
        .values(count=LoginThrottle.count + 1)
    ).rowcount  # type: ignore[attr-defined]
    if done:
        return
    reset = session.execute(
        update(LoginThrottle).where(LoginThrottle.key == key).values(count=1, window_start=now)
    ).rowcount  # type: ignore[attr-defined]
    if reset:
        return
    try:
        with session.begin_nested():
            session.add(LoginThrottle(key=key, window_start=now, count=1))
    except IntegrityError:  # another worker inserted it first
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(count=LoginThrottle.count + 1)
        )


def _address_key(address: str | None) -> str:
    return f"addr:{address or 'unknown'}"


def _user_key(username: str) -> str:
    return f"user:{username.strip().lower()[:100]}"


def throttled(
    session: Session, settings: AuthSettings, address: str | None, now: datetime | None = None
) -> str:
    """A message when this address has made too many failed attempts, else ""."""
    now = now or utcnow()
    window = timedelta(minutes=settings.lockout_minutes)
    if _count(session, _address_key(address), window, now) >= settings.address_max_failures:
        return THROTTLED.format(minutes=settings.lockout_minutes)
    return ""


def _fail(
    session: Session,
    access: AccessLayer,
    settings: AuthSettings,
    user: User | None,
    username: str,
    address: str | None,
    step: str,
    now: datetime,
    reason: str = "",
) -> None:
    window = timedelta(minutes=settings.lockout_minutes)
    _hit(session, _address_key(address), window, now)
    _hit(session, _user_key(username), window, now)
    if user is not None:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= settings.max_failures:
            user.locked_until = now + window
            user.failed_logins = 0
    detail = {"username": username[:64], "address": address or ""}
    audit_sign_in(
        session, access, "signin." + step, "fail", str(user.id) if user else "", reason, detail
    )


def _locked_message(
    session: Session, settings: AuthSettings, user: User | None, username: str, now: datetime
) -> str:
    if user is not None and user.locked_until is not None and user.locked_until > now:
        return LOCKED.format(until=f"{user.locked_until:%H:%M}")
    # unknown usernames lock the same way, so a lock message reveals nothing about who exists
    row = session.get(LoginThrottle, _user_key(username))
    window = timedelta(minutes=settings.lockout_minutes)
    if (
        user is None
        and row is not None
        and row.window_start + window > now
        and row.count >= settings.max_failures
    ):
        return LOCKED.format(until=f"{row.window_start + window:%H:%M}")
    return ""


def _vetting_problem(user: User, today: date) -> str:
    status = VettingStatus(Vetting.parse(user.vetting), user.vetting_expires)
    if status.expired(today):
        assert user.vetting_expires is not None
        return (
            f"You cannot sign in because your {user.vetting} vetting expired on "
            f"{user.vetting_expires:%-d %B %Y}. Ask your vetting officer to renew it, then your "
            "user administrator can restore access."
        )
    if status.clearance(today) is None:
        return (
            "You cannot sign in because you hold no current vetting. "
            "Contact your user administrator."
        )
    return ""


# -- step 1: username and password ---------------------------------------------------------------
def password_step(
    session: Session,
    access: AccessLayer,
    settings: AuthSettings,
    username: str,
    password: str,
    address: str | None,
    user_agent: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Outcome:
    now = now or utcnow()
    today = today or now.date()
    username = (username or "").strip()
    message = throttled(session, settings, address, now)
    if message:
        detail = {"address": address or ""}
        audit_sign_in(session, access, "signin.password", "deny", "", "address throttled", detail)
        return Outcome(False, message)
    user = session.scalar(select(User).where(User.username == username)) if username else None
    locked = _locked_message(session, settings, user, username, now)
    if locked:
        secrets.check_password(None, password)  # same cost as a real check
        audit_sign_in(
            session, access, "signin.password", "deny", str(user.id) if user else "", "locked"
        )
        return Outcome(False, locked)
    if user is None or not secrets.check_password(user.password_hash, password):
        if user is None:
            secrets.check_password(None, password)
        _fail(session, access, settings, user, username, address, "password", now)
        return Outcome(
            False, _locked_message(session, settings, user, username, now) or GENERIC_FAILURE
        )
    # the password is right: only now say why the account cannot be used
    if user.disabled_at is not None:
        audit_sign_in(session, access, "signin.password", "deny", str(user.id), "disabled")
        return Outcome(False, "This account has been disabled. Contact your user administrator.")
    vetting = _vetting_problem(user, today)
    if vetting:
        audit_sign_in(session, access, "signin.password", "deny", str(user.id), "vetting expired")
        return Outcome(False, vetting)
    if user.password_hash and secrets.needs_rehash(user.password_hash):
        user.password_hash = secrets.hash_password(password)
    token = _new_session(session, user, mfa_done=False, user_agent=user_agent)
    audit_sign_in(session, access, "signin.password", "allow", str(user.id))
    needs_enrol = user.must_enrol or user.totp_secret_sealed is None
    return Outcome(True, token=token, next_step="enrol" if needs_enrol else "code")


# -- step 2: TOTP -------------------------------------------------------------------------------
def matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to (one step of drift allowed), if newer than the last used."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_PERIOD)
    current = int(now.timestamp()) // TOTP_PERIOD
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_PERIOD), code):
            # replay protection: a code (or an older one) that was already accepted is refused
            if last_step is not None and step <= last_step:
                return None
            return step
    return None


def _pending_user(session: Session, active: ActiveSession) -> User | None:
    return session.get(User, active.user_id)


def totp_step(sealer: ServiceSecrets, user: User, code: str, now: datetime) -> int | None:
    """The time step of a right, unused TOTP `code` for `user`; None for a wrong code or a secret
    that does not open."""
    from .services import totp_secret

    secret = totp_secret(sealer, user)
    return matching_step(secret, code, now, user.totp_last_step) if secret else None


def locked_out(
    session: Session, settings: AuthSettings, user: User, active: ActiveSession, now: datetime
) -> Outcome | None:
    """While `user` is locked, the half-signed-in session ends and the lock is the answer."""
    locked = _locked_message(session, settings, user, user.username, now)
    if not locked:
        return None
    end_session(session, active.id_hash)
    return Outcome(False, locked)


def second_factor_failed(
    session: Session,
    access: AccessLayer,
    settings: AuthSettings,
    user: User,
    active: ActiveSession,
    address: str | None,
    step: str,
    now: datetime,
    message: str,
    reason: str = "",
) -> Outcome:
    """A wrong second factor counts as a failed sign-in; the failure that locks ends the session."""
    _fail(session, access, settings, user, user.username, address, step, now, reason)
    return locked_out(session, settings, user, active, now) or Outcome(False, message)


def code_step(
    session: Session,
    access: AccessLayer,
    settings: AuthSettings,
    sealer: ServiceSecrets,
    active: ActiveSession,
    code: str,
    address: str | None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Check the second factor of a password-authenticated session; success: a new full session."""
    now = now or utcnow()
    user = _pending_user(session, active)
    if user is None:
        return Outcome(False, "Sign in again")
    held = locked_out(session, settings, user, active, now)
    if held:
        return held
    from .services import totp_secret

    secret = totp_secret(sealer, user)
    if secret is None or user.must_enrol:
        return Outcome(False, "Set up your authenticator app first", next_step="enrol")
    step = matching_step(secret, code, now, user.totp_last_step)
    if step is None:
        return second_factor_failed(
            session, access, settings, user, active, address, "code", now, WRONG_CODE
        )
    return _complete(session, access, user, active, step, user_agent)


def _complete(
    session: Session,
    access: AccessLayer,
    user: User,
    active: ActiveSession,
    step: int | None,
    user_agent: str | None,
    action: str = "signin.code",
    detail: dict[str, object] | None = None,
) -> Outcome:
    """The second factor is proven (a TOTP `step`, or a security key: shareplatform/accounts/
    webauthn.py): a new, full session."""
    if step is not None:
        user.totp_last_step = step
    user.failed_logins = 0
    user.locked_until = None
    end_session(session, active.id_hash)  # a new id once fully signed in (no session fixation)
    token = _new_session(session, user, mfa_done=True, user_agent=user_agent)
    audit_sign_in(session, access, action, "allow", str(user.id), detail=detail)
    return Outcome(True, token=token, next_step="done")


# -- enrolment ------------------------------------------------------------------------------------
def needs_enrolment(session: Session, active: ActiveSession) -> bool:
    user = _pending_user(session, active)
    return user is not None and (user.must_enrol or user.totp_secret_sealed is None)


def needs_new_password(session: Session, active: ActiveSession) -> bool:
    """A session opened with a recovery code: a new password comes before anything else."""
    user = _pending_user(session, active)
    return user is not None and user.must_change_password


def begin_enrolment(
    session: Session, sealer: ServiceSecrets, active: ActiveSession
) -> tuple[str, str]:
    """A new secret, stored sealed, not yet active (must_enrol stays set until a code proves it)."""
    user = _pending_user(session, active)
    if user is None or not (user.must_enrol or user.totp_secret_sealed is None):
        raise PermissionError("this account already has a second factor")
    if user.must_change_password:  # a recovered account chooses its password first
        raise PermissionError("choose a new password first")
    secret = pyotp.random_base32()
    user.totp_secret_sealed = sealer.seal_totp(user.id, secret)
    user.totp_last_step = None
    user.must_enrol = True
    uri = pyotp.TOTP(secret, interval=TOTP_PERIOD).provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )
    return secret, uri


def finish_enrolment(
    session: Session,
    access: AccessLayer,
    settings: AuthSettings,
    sealer: ServiceSecrets,
    active: ActiveSession,
    code: str,
    address: str | None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    now = now or utcnow()
    user = _pending_user(session, active)
    if user is None or not (user.must_enrol or user.totp_secret_sealed is None):
        return Outcome(False, "Sign in again")
    if user.must_change_password:
        return Outcome(False, "Choose a new password first", next_step="password")
    step = totp_step(sealer, user, code, now)
    if step is None:
        _fail(session, access, settings, user, user.username, address, "enrol", now)
        return Outcome(
            False, "Enter the 6-digit code your authenticator app shows for this account"
        )
    user.must_enrol = False
    audit_sign_in(session, access, "signin.enrol", "done", str(user.id))
    return _complete(session, access, user, active, step, user_agent)


# -- sessions -----------------------------------------------------------------------------------
# How stale `last_seen_at` may grow before a request refreshes it: most requests then write
# nothing to sign the user in (no write lock taken); the idle timeout is at most this much early.
TOUCH_EVERY = timedelta(seconds=30)


def load_session(
    session: Session,
    settings: AuthSettings,
    token: str | None,
    today: date | None = None,
    now: datetime | None = None,
    touch: bool = True,
) -> ActiveSession | Ended | None:
    """The live session for a cookie token, checked on every request; ends it when it must end."""
    if not token:
        return None
    now = now or utcnow()
    today = today or now.date()
    row = session.get(UserSession, token_hash(token))
    if row is None or row.ended_at is not None or not row.facts_intact:
        return None  # a session row forged in the database signs nobody in
    user = session.get(User, row.user_id)
    reason = ""
    if user is None or user.disabled_at is not None:
        reason = "disabled"
    elif VettingStatus(Vetting.parse(user.vetting), user.vetting_expires).expired(today):
        reason = "vetting"
    elif row.last_seen_at + timedelta(minutes=settings.idle_minutes) <= now:
        reason = "idle"
    elif row.created_at + timedelta(hours=settings.absolute_hours) <= now:
        reason = "absolute"
    if reason:
        if user is not None and reason in ("disabled", "vetting"):
            end_all_sessions(
                session, user.id, now
            )  # disabling or lapsed vetting ends every session
        else:
            row.ended_at = now
        return Ended(reason)
    if touch and now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return ActiveSession(row.id_hash, row.user_id, row.mfa_done, row.created_at)


def end_session(session: Session, id_hash: str, now: datetime | None = None) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id_hash == id_hash, UserSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def end_all_sessions(session: Session, user_id: uuid.UUID, now: datetime | None = None) -> int:
    return session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    ).rowcount  # type: ignore[attr-defined]


def revoke_credentials(
    session: Session, user_id: uuid.UUID, now: datetime | None = None, keep: str | None = None
) -> dict[str, int]:
    """End every session of a user (but the one whose id hash is `keep`) and revoke every API
    token: what a reset, disabling or "sign out everywhere" must kill. The caller audits it."""
    from .tokens import revoke_all

    now = now or utcnow()
    ending = update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        ending = ending.where(UserSession.id_hash != keep)
    sessions = session.execute(ending.values(ended_at=now)).rowcount  # type: ignore[attr-defined]
    tokens = revoke_all(session, user_id, now)
    return {"sessions_ended": int(sessions or 0), "tokens_revoked": tokens}


def sign_out(
    session: Session, access: AccessLayer, active: ActiveSession, everywhere: bool = False
) -> int:
    tokens = 0
    if everywhere:  # a stolen session may have minted a token: those end too
        ended = revoke_credentials(session, active.user_id)
        count, tokens = ended["sessions_ended"], ended["tokens_revoked"]
    else:
        end_session(session, active.id_hash)
        count = 1
    detail = {"everywhere": everywhere, "sessions": count, "tokens_revoked": tokens}
    audit_sign_in(session, access, "signout", "done", str(active.user_id), detail=detail)
    return count


def active_sessions(session: Session, user_id: uuid.UUID) -> list[UserSession]:
    return list(
        session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.mfa_done.is_(True),
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )
