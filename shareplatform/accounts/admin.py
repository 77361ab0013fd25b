"""User administration: create, change, disable and enable users; reset a user's sign-in (a
one-time recovery code) or second factor; vetting due to expire. Permission: USER_ADMIN (policy
kind `user`, action `manage`).

Separation of duties (shareplatform/accounts/duties.py): nobody administers their own account;
a change that widens what an account reaches, or the recovery of a privileged account, becomes a
request that a second administrator approves (shareplatform/accounts/approvals.py).

Disabling and resets end every session and revoke every API token of the user at once, so the
change takes effect on their next request. Expired vetting needs no action here: the kernel already
denies everything to a user whose vetting has expired; the report lists them so they can be
re-vetted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.vocabulary import Act, Kind
from ..context import Ctx
from ..db import utcnow
from ..domain.errors import InvalidValue, NotFound
from ..domain.vetting import Vetting, VettingStatus
from . import approvals, auth, recovery, webauthn
from .approvals import audit_done, require_manage
from .duties import DutyRefused, Profile, privileged, refuse_self, why_two_administrators
from .models import User, UserChangeRequest, UserSession
from .services import NewUser, create_user, validate_user

MIN_PASSWORD = recovery.MIN_PASSWORD
EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class Outcome:
    """What an administrator's action did: applied now, or waiting for a second administrator."""

    applied: bool
    message: str
    code: str = ""  # a recovery code to pass on out of band: shown once, stored only as a hash
    request_id: uuid.UUID | None = None
    user: User | None = None


def _require(
    ctx: Ctx, action: str, object_id: str = "", detail: dict[str, object] | None = None
) -> None:
    require_manage(ctx, action, object_id, detail)


def _done(
    ctx: Ctx, action: str, user: User, reason: str = "", detail: dict[str, object] | None = None
) -> None:
    audit_done(ctx, action, str(user.id), reason, {"username": user.username, **(detail or {})})


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise NotFound("user")
    return user


def _profile(user: User) -> Profile:
    return Profile(user.role, user.vetting, user.vetting_expires, user.nsd_unit, user.ct_unit)


def _data_profile(data: NewUser) -> Profile:
    return Profile(data.role, data.vetting, data.vetting_expires, data.nsd_unit, data.ct_unit)


def _by(ctx: Ctx, row: UserChangeRequest) -> dict[str, object]:
    """Who asked and who approved, for the audit entry of an applied request."""
    requester = ctx.session.get(User, row.requested_by)
    return {"request": str(row.id), "requested_by": requester.username if requester else ""}


# -- the last policy administrator ----------------------------------------------------------------
def _administers_policy(ctx: Ctx, user_id: uuid.UUID) -> bool:
    subject = ctx.access.subject(ctx.session, user_id, ctx.today)
    return ctx.access.can(ctx.session, subject, Kind.POLICY, Act.EDIT)


def _keep_a_policy_administrator(ctx: Ctx, could_before: bool) -> None:
    """Refuse a change that leaves no active user able to administer the access policy."""
    if not could_before:
        return
    ctx.session.flush()
    for uid in ctx.session.scalars(select(User.id).where(User.disabled_at.is_(None))):
        if _administers_policy(ctx, uid):
            return
    raise DutyRefused(
        "This would leave nobody able to administer the access policy: "
        "give another user that role first."
    )


# -- use cases ----------------------------------------------------------------------------------
def add_user(
    ctx: Ctx, data: NewUser, reason: str = "", hours: int = recovery.DEFAULT_HOURS
) -> Outcome:
    """Create a user with no password: they sign in first with a one-time recovery code (shown
    once, to pass on), choose their own password and enrol their second factor. A privileged
    account, or one cleared for SECRET, waits for a second administrator."""
    _require(ctx, "user.create")
    validate_user(data)
    if ctx.session.scalar(select(User.id).where(User.username == data.username.strip())):
        raise InvalidValue("username", data.username, why="that username is already taken")
    code = recovery.new_code()
    why = why_two_administrators(None, _data_profile(data), ctx.today)
    if why:
        payload = {
            "summary": f"new {data.role} {data.vetting}: " + "; ".join(why),
            "user": _new_user_json(data),
            "code_hash": recovery.code_hash(code),
            "hours": hours,
        }
        row = approvals.submit(ctx, "create", None, data.username.strip(), payload, reason)
        return Outcome(
            False,
            "A second administrator must approve this account ("
            + "; ".join(why)
            + "). The code below works only once it is approved.",
            code=code,
            request_id=row.id,
        )
    user = _create(ctx, data, recovery.code_hash(code), hours, issued_by=ctx.subject.user_id)
    return Outcome(True, "Account created.", code=code, user=user)


def _new_user_json(data: NewUser) -> dict[str, Any]:
    return {
        "username": data.username.strip(),
        "display_name": data.display_name,
        "role": data.role,
        "vetting": data.vetting,
        "vetting_expires": data.vetting_expires.isoformat() if data.vetting_expires else None,
        "agency": data.agency,
        "nsd_unit": data.nsd_unit,
        "ct_unit": data.ct_unit,
    }


def _new_user_of(j: dict[str, Any]) -> NewUser:
    expires = j.get("vetting_expires")
    return NewUser(
        j["username"],
        j["display_name"],
        j["role"],
        j["vetting"],
        date.fromisoformat(expires) if expires else None,
        j.get("agency"),
        j.get("nsd_unit"),
        j.get("ct_unit"),
    )


def _create(
    ctx: Ctx,
    data: NewUser,
    hashed: str,
    hours: int,
    *,
    issued_by: uuid.UUID,
    detail: dict[str, object] | None = None,
) -> User:
    user = create_user(ctx.session, data)
    recovery.reset_sign_in(
        ctx.session, user, hashed, issued_by=issued_by, approved_by=None, hours=hours
    )
    _done(
        ctx,
        "user.create",
        user,
        detail={
            "role": user.role,
            "agency": user.agency,
            "vetting": user.vetting,
            "code_hours": hours,
            **(detail or {}),
        },
    )
    return user


def _apply_create(ctx: Ctx, row: UserChangeRequest, payload: dict[str, Any]) -> str:
    data = _new_user_of(payload["user"])
    _create(
        ctx,
        data,
        payload["code_hash"],
        int(payload["hours"]),
        issued_by=row.requested_by,
        detail=_by(ctx, row),
    )
    return f"Account {data.username} created; the code its requester holds now works."


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


def update_user(ctx: Ctx, username: str, changes: Changes, reason: str = "") -> Outcome:
    """Set agency, role, unit, vetting level and expiry; validated together as a whole user.

    Never your own account; a change that widens what the account reaches waits for a second
    administrator (applied only when approved)."""
    _require(ctx, "user.update", username)
    user = get_user(ctx.session, username)
    refuse_self(ctx.subject.user_id, user.id, "change role, vetting or unit")
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
    validate_user(data)
    why = why_two_administrators(_profile(user), _data_profile(data), ctx.today)
    if why:
        changed = _changed(_fields(user), _fields_of(data))
        payload = {
            "summary": "; ".join(f"{k}: {a} to {b}" for k, (a, b) in changed.items())
            + " ("
            + "; ".join(why)
            + ")",
            "user": _new_user_json(data),
        }
        row = approvals.submit(ctx, "update", user, user.username, payload, reason)
        return Outcome(
            False,
            "A second administrator must approve this change (" + "; ".join(why) + ").",
            request_id=row.id,
            user=user,
        )
    _apply_update(ctx, user, data)
    return Outcome(True, "Changes saved.", user=user)


def _fields(user: User) -> dict[str, object]:
    return {
        "role": user.role,
        "agency": user.agency,
        "vetting": user.vetting,
        "vetting_expires": str(user.vetting_expires),
        "nsd_unit": user.nsd_unit,
        "ct_unit": user.ct_unit,
    }


def _fields_of(data: NewUser) -> dict[str, object]:
    role, agency, vetting = validate_user(data)
    return {
        "role": role.value,
        "agency": agency.value,
        "vetting": vetting.value,
        "vetting_expires": str(data.vetting_expires),
        "nsd_unit": data.nsd_unit,
        "ct_unit": data.ct_unit,
    }


def _changed(before: dict[str, object], after: dict[str, object]) -> dict[str, list[object]]:
    return {k: [before[k], after[k]] for k in before if before[k] != after[k]}


def _apply_update(
    ctx: Ctx, user: User, data: NewUser, detail: dict[str, object] | None = None
) -> None:
    role, agency, vetting = validate_user(data)
    could = _administers_policy(ctx, user.id)
    before = _fields(user)
    with ctx.session.begin_nested():  # a refused change leaves nothing behind
        user.display_name = data.display_name.strip()
        user.role, user.agency, user.vetting = role.value, agency.value, vetting.value
        user.vetting_expires, user.nsd_unit, user.ct_unit = (
            data.vetting_expires,
            data.nsd_unit,
            data.ct_unit,
        )
        _keep_a_policy_administrator(ctx, could)
    changed = _changed(before, _fields(user))
    ended: dict[str, int] = {}
    if changed.keys() & {"role", "agency", "nsd_unit", "ct_unit"}:
        # a new role means a new sign-in with the new rights
        ended = {"sessions_ended": auth.end_all_sessions(ctx.session, user.id)}
    _done(ctx, "user.update", user, detail={"changed": changed, **ended, **(detail or {})})


def _apply_update_request(ctx: Ctx, row: UserChangeRequest, payload: dict[str, Any]) -> str:
    user = ctx.session.get(User, row.target_user_id)
    if user is None:
        raise NotFound("user")
    _apply_update(ctx, user, _new_user_of(payload["user"]), _by(ctx, row))
    return f"Changes to {user.username} applied."


def disable_user(ctx: Ctx, username: str, reason: str) -> int:
    """Disable an account; end all its sessions and revoke its API tokens at once. Returns the
    number of sessions ended."""
    _require(ctx, "user.disable", username)
    if not reason.strip():
        raise InvalidValue("reason", reason, why="give the reason for disabling the account")
    user = get_user(ctx.session, username)
    if user.id == ctx.subject.user_id:
        raise InvalidValue("user", username, why="you cannot disable your own account")
    could = _administers_policy(ctx, user.id)
    with ctx.session.begin_nested():  # a refused change leaves nothing behind
        if user.disabled_at is None:
            user.disabled_at = utcnow()
        _keep_a_policy_administrator(ctx, could)
    ended = auth.revoke_credentials(ctx.session, user.id)
    _done(ctx, "user.disable", user, reason.strip(), ended)  # type: ignore[arg-type]
    return ended["sessions_ended"]


def enable_user(ctx: Ctx, username: str, reason: str) -> None:
    _require(ctx, "user.enable", username)
    if not reason.strip():
        raise InvalidValue("reason", reason, why="give the reason for enabling the account")
    user = get_user(ctx.session, username)
    refuse_self(ctx.subject.user_id, user.id, "enable")
    user.disabled_at = None
    user.failed_logins, user.locked_until = 0, None
    _done(ctx, "user.enable", user, reason.strip())


def reset_sign_in(
    ctx: Ctx, username: str, reason: str = "", hours: int = recovery.DEFAULT_HOURS
) -> Outcome:
    """Account recovery: the user's password, second factor, sessions and API tokens stop
    working, and a one-time code (shown once, here) lets the user choose a new password and
    enrol a new second factor themselves. A privileged account waits for a second
    administrator: the code works only once that approval is given."""
    _require(ctx, "user.reset_sign_in", username)
    user = get_user(ctx.session, username)
    refuse_self(ctx.subject.user_id, user.id, "reset sign-in")
    code = recovery.new_code()
    hashed = recovery.code_hash(code)
    if privileged(user.role):
        payload = {
            "summary": f"reset sign-in of {user.role} {user.username}",
            "code_hash": hashed,
            "hours": hours,
        }
        row = approvals.submit(ctx, "recovery", user, user.username, payload, reason)
        return Outcome(
            False,
            f"A second administrator must approve the recovery of this {user.role} account. "
            "Nothing changes until then; the code below works only once it is approved.",
            code=code,
            request_id=row.id,
            user=user,
        )
    _reset(ctx, user, hashed, hours, issued_by=ctx.subject.user_id, reason=reason)
    return Outcome(
        True,
        f"Sign-in reset. Give the user this one-time code, out of band; it works once, "
        f"for {hours} hours.",
        code=code,
        user=user,
    )


def _reset(
    ctx: Ctx,
    user: User,
    hashed: str,
    hours: int,
    *,
    issued_by: uuid.UUID,
    reason: str = "",
    approved_by: uuid.UUID | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    ended = recovery.reset_sign_in(
        ctx.session, user, hashed, issued_by=issued_by, approved_by=approved_by, hours=hours
    )
    _done(
        ctx,
        "user.reset_sign_in",
        user,
        reason.strip(),
        {**ended, "code_hours": hours, **(detail or {})},
    )


def _apply_recovery(ctx: Ctx, row: UserChangeRequest, payload: dict[str, Any]) -> str:
    user = ctx.session.get(User, row.target_user_id)
    if user is None:
        raise NotFound("user")
    _reset(
        ctx,
        user,
        payload["code_hash"],
        int(payload["hours"]),
        issued_by=row.requested_by,
        approved_by=ctx.subject.user_id,
        reason=row.reason,
        detail=_by(ctx, row),
    )
    return f"Sign-in of {user.username} reset; the code its requester holds now works."


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


def reset_second_factor(ctx: Ctx, username: str, reason: str = "") -> Outcome:
    """Clear the second factor (a lost phone): the user enrols again at next sign-in, with their
    own password; sessions and API tokens end now. A privileged account waits for a second
    administrator."""
    _require(ctx, "user.reset_mfa", username)
    user = get_user(ctx.session, username)
    refuse_self(ctx.subject.user_id, user.id, "reset the second factor")
    if privileged(user.role):
        payload = {"summary": f"reset the second factor of {user.role} {user.username}"}
        row = approvals.submit(ctx, "reset_mfa", user, user.username, payload, reason)
        return Outcome(
            False,
            f"A second administrator must approve resetting this {user.role} account's "
            "second factor.",
            request_id=row.id,
            user=user,
        )
    _clear_second_factor(ctx, user, reason)
    return Outcome(
        True,
        "Second factor cleared: the user must enrol again at next sign-in; "
        "their sessions ended and their API tokens were revoked.",
        user=user,
    )


def _clear_second_factor(
    ctx: Ctx, user: User, reason: str = "", detail: dict[str, object] | None = None
) -> None:
    user.totp_secret_sealed, user.totp_last_step, user.must_enrol = None, None, True
    ended = auth.revoke_credentials(ctx.session, user.id)
    ended["keys_removed"] = webauthn.remove_all(ctx.session, user.id)  # every second factor goes
    _done(ctx, "user.reset_mfa", user, reason.strip(), {**ended, **(detail or {})})


def _apply_reset_mfa(ctx: Ctx, row: UserChangeRequest, payload: dict[str, Any]) -> str:
    user = ctx.session.get(User, row.target_user_id)
    if user is None:
        raise NotFound("user")
    _clear_second_factor(ctx, user, row.reason, _by(ctx, row))
    return f"Second factor of {user.username} cleared."


approvals.register_kind("create", _apply_create)
approvals.register_kind("update", _apply_update_request)
approvals.register_kind("recovery", _apply_recovery)
approvals.register_kind("reset_mfa", _apply_reset_mfa)


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
