"""User administration: create, change, disable and enable users; reset passwords and second
factors; vetting due to expire. Permission: USER_ADMIN (policy kind `user`, action `manage`).

Disabling and resets end every session of the user at once (user_sessions.ended_at), so the change
takes effect on their next request. Expired vetting needs no action here: the kernel already denies
everything to a user whose vetting has expired; the report lists them so they can be re-vetted.
"""

from __future__ import annotations

import secrets as pysecrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..access.facts import Facts
from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..context import Ctx
from ..db import utcnow
from ..domain.errors import InvalidValue, NotFound
from ..domain.labels import Classification
from ..domain.vetting import Vetting, VettingStatus
from . import secrets
from .models import User, UserSession
from .services import NewUser, create_user, validate_user

MIN_PASSWORD = 12
EXPIRY_WARNING_DAYS = 30


def _require(
    ctx: Ctx, action: str, object_id: str = "", detail: dict[str, object] | None = None
) -> None:
    ctx.access.require(
        ctx.session,
        ctx.subject,
        Facts(Kind.USER, Classification.OFFICIAL),
        Act.MANAGE,
        Event(
            action=action,
            object_type="user",
            outcome="allow",
            label=Classification.OFFICIAL,
            object_id=object_id,
            detail=detail or {},
        ),
        hide=False,
    )


def _done(
    ctx: Ctx, action: str, user: User, reason: str = "", detail: dict[str, object] | None = None
) -> None:
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action=action,
            object_type="user",
            outcome="done",
            label=Classification.OFFICIAL,
            object_id=str(user.id),
            reason=reason,
            detail={"username": user.username, **(detail or {})},
        ),
    )


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise NotFound("user")
    return user


def end_sessions(session: Session, user_id: uuid.UUID) -> int:
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidValue("password", "", why=f"use at least {MIN_PASSWORD} characters")


# -- use cases ----------------------------------------------------------------------------------
def add_user(ctx: Ctx, data: NewUser, password: str | None = None) -> tuple[User, str]:
    """Create a user who must enrol a second factor. Returns the user and a one-time password."""
    _require(ctx, "user.create")
    password = password or pysecrets.token_urlsafe(12)
    _check_password(password)
    user = create_user(ctx.session, data, password)
    _done(
        ctx,
        "user.create",
        user,
        detail={"role": user.role, "agency": user.agency, "vetting": user.vetting},
    )
    return user, password


@dataclass(frozen=True)
class Changes:
    display_name: str | None = None
    role: str | None = None
    agency: str | None = None
    vetting: str | None = None
    vetting_expires: date | None = None
    nsd_unit: str | None = None  # "" clears
    ct_unit: str | None = None  # "" clears
    clear_expiry: bool = False


def update_user(ctx: Ctx, username: str, changes: Changes) -> User:
    """Set agency, role, unit, vetting level and expiry; validated together as a whole user."""
    _require(ctx, "user.update", username)
    user = get_user(ctx.session, username)
    pick = lambda new, old: old if new is None else new  # noqa: E731
    data = NewUser(
        user.username,
        pick(changes.display_name, user.display_name),
        pick(changes.role, user.role),
        pick(changes.vetting, user.vetting),
        None if changes.clear_expiry else pick(changes.vetting_expires, user.vetting_expires),
        pick(changes.agency, None) or None,
        pick(changes.nsd_unit, user.nsd_unit) or None,
        pick(changes.ct_unit, user.ct_unit) or None,
    )
    role, agency, vetting = validate_user(data)
    before = {
        "role": user.role,
        "agency": user.agency,
        "vetting": user.vetting,
        "vetting_expires": str(user.vetting_expires),
        "nsd_unit": user.nsd_unit,
        "ct_unit": user.ct_unit,
    }
    user.display_name = data.display_name.strip()
    user.role, user.agency, user.vetting = role.value, agency.value, vetting.value
    user.vetting_expires, user.nsd_unit, user.ct_unit = (
        data.vetting_expires,
        data.nsd_unit,
        data.ct_unit,
    )
    after = {
        "role": user.role,
        "agency": user.agency,
        "vetting": user.vetting,
        "vetting_expires": str(user.vetting_expires),
        "nsd_unit": user.nsd_unit,
        "ct_unit": user.ct_unit,
    }
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changed.keys() & {"role", "agency", "nsd_unit", "ct_unit"}:
        end_sessions(ctx.session, user.id)  # a new role means a new sign-in with the new rights
    _done(ctx, "user.update", user, detail={"changed": changed})
    return user


def disable_user(ctx: Ctx, username: str, reason: str) -> int:
    """Disable an account and end all its sessions at once. Returns the number of sessions ended."""
    _require(ctx, "user.disable", username)
    if not reason.strip():
        raise InvalidValue("reason", reason, why="give the reason for disabling the account")
    user = get_user(ctx.session, username)
    if user.id == ctx.subject.user_id:
        raise InvalidValue("user", username, why="you cannot disable your own account")
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    ended = end_sessions(ctx.session, user.id)
    _done(ctx, "user.disable", user, reason.strip(), {"sessions_ended": ended})
    return ended


def enable_user(ctx: Ctx, username: str, reason: str) -> None:
    _require(ctx, "user.enable", username)
    if not reason.strip():
        raise InvalidValue("reason", reason, why="give the reason for enabling the account")
    user = get_user(ctx.session, username)
    user.disabled_at = None
    user.failed_logins, user.locked_until = 0, None
    _done(ctx, "user.enable", user, reason.strip())


def reset_password(ctx: Ctx, username: str, password: str | None = None) -> str:
    """Set a new password (generated unless given); ends the user's sessions. Returns it, once."""
    _require(ctx, "user.reset_password", username)
    user = get_user(ctx.session, username)
    password = password or pysecrets.token_urlsafe(12)
    _check_password(password)
    user.password_hash = secrets.hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    ended = end_sessions(ctx.session, user.id)
    _done(ctx, "user.reset_password", user, detail={"sessions_ended": ended})
    return password


def unlock_user(ctx: Ctx, username: str) -> bool:
    """Lift a sign-in lockout now (failed attempts forgotten). Returns whether it was locked."""
    _require(ctx, "user.unlock", username)
    user = get_user(ctx.session, username)
    was_locked = _locked_until(user) is not None
    user.failed_logins, user.locked_until = 0, None
    _done(ctx, "user.unlock", user, detail={"was_locked": was_locked})
    return was_locked


def _locked_until(user: User) -> datetime | None:
    """When a lockout still in force ends (a lapsed one is no lockout)."""
    until = user.locked_until
    return until if until is not None and until > utcnow() else None


def reset_second_factor(ctx: Ctx, username: str) -> int:
    """Clear the second factor: the user must enrol again at next sign-in; sessions end now."""
    _require(ctx, "user.reset_mfa", username)
    user = get_user(ctx.session, username)
    user.totp_secret_sealed, user.totp_last_step, user.must_enrol = None, None, True
    ended = end_sessions(ctx.session, user.id)
    _done(ctx, "user.reset_mfa", user, detail={"sessions_ended": ended})
    return ended


# -- listings -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    agency: str
    role: str
    vetting: str
    vetting_expires: date | None
    nsd_unit: str | None
    ct_unit: str | None
    disabled: bool
    must_enrol: bool
    vetting_state: str  # current, expiring, expired, none
    locked_until: datetime | None = None  # set while a sign-in lockout is in force


def _state(user: User, today: date) -> str:
    level = Vetting.parse(user.vetting)
    if level.clearance is None:
        return "none"
    status = VettingStatus(level, user.vetting_expires)
    if status.expired(today):
        return "expired"
    if user.vetting_expires is not None and user.vetting_expires <= today + timedelta(
        days=EXPIRY_WARNING_DAYS
    ):
        return "expiring"
    return "current"


def _row(user: User, today: date) -> UserRow:
    return UserRow(
        user.username,
        user.display_name,
        user.agency,
        user.role,
        user.vetting,
        user.vetting_expires,
        user.nsd_unit,
        user.ct_unit,
        user.disabled_at is not None,
        user.must_enrol,
        _state(user, today),
        _locked_until(user),
    )


def users(ctx: Ctx, query: str = "") -> list[UserRow]:
    _require(ctx, "user.list")
    stmt = select(User).order_by(User.agency, User.role, User.username)
    if query.strip():
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(User.username.ilike(like) | User.display_name.ilike(like))
    return [_row(u, ctx.today) for u in ctx.session.scalars(stmt)]


def user_detail(ctx: Ctx, username: str) -> tuple[UserRow, int]:
    """One user and how many sessions they have open."""
    _require(ctx, "user.view", username)
    user = get_user(ctx.session, username)
    open_sessions = len(
        ctx.session.scalars(
            select(UserSession.id_hash).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        ).all()
    )
    return _row(user, ctx.today), open_sessions


@dataclass(frozen=True)
class VettingReport:
    expiring: list[UserRow]  # within EXPIRY_WARNING_DAYS, soonest first
    expired: list[UserRow]  # the kernel already denies them everything


def vetting_report(ctx: Ctx) -> VettingReport:
    _require(ctx, "user.vetting_report")
    rows = [
        _row(u, ctx.today)
        for u in ctx.session.scalars(
            select(User)
            .where(User.vetting_expires.is_not(None), User.disabled_at.is_(None))
            .order_by(User.vetting_expires, User.username)
        )
    ]
    return VettingReport(
        [r for r in rows if r.vetting_state == "expiring"],
        [r for r in rows if r.vetting_state == "expired"],
    )
