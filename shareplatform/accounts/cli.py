"""`flask --app wsgi tokens ...` (personal API tokens) and `users ...` from the command line."""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select


def _platform():
    return current_app.extensions["shareplatform"]


tokens_cli = AppGroup(
    "tokens", help="Personal API tokens (the web app's 'Your API tokens' page does the same)."
)


def _user(session, username: str):
    from ..accounts.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        click.echo(f"Error: no user {username!r}", err=True)
        sys.exit(1)
    return user


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", required=True)
@click.option(
    "--scope", type=click.Choice(["read", "read-write"]), default="read", show_default=True
)
@click.option("--days", type=int, default=90, show_default=True)
def create(username: str, name: str, scope: str, days: int) -> None:
    """Create a token for USERNAME and print it once."""
    from ..accounts import tokens
    from ..domain.errors import DomainError

    platform = current_app.extensions["shareplatform"]
    try:
        with platform.transaction() as session:
            summary, raw = tokens.create_token(
                session,
                platform.access,
                _user(session, username),
                name,
                scope,
                days,
                by_system=True,
            )
    except DomainError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"token {summary.id} ({summary.scope}, expires {summary.expires_at:%Y-%m-%d}); shown once:"
    )
    click.echo(raw)


@tokens_cli.command("list")
@click.argument("username")
def list_(username: str) -> None:
    from ..accounts import tokens

    platform = current_app.extensions["shareplatform"]
    with platform.transaction() as session:
        rows = tokens.list_tokens(session, _user(session, username).id)
    for t in rows:
        state = "active" if t.active else ("revoked" if t.revoked_at else "expired")
        click.echo(
            f"{t.id}  {t.hint}...  {t.scope:<10} {state:<8} "
            f"expires {t.expires_at:%Y-%m-%d}  {t.name}"
        )


@tokens_cli.command("revoke")
@click.argument("username")
@click.argument("token_id")
def revoke(username: str, token_id: str) -> None:
    from ..accounts import tokens
    from ..domain.errors import NotFound

    platform = current_app.extensions["shareplatform"]
    try:
        with platform.transaction() as session:
            tokens.revoke_token(
                session, platform.access, _user(session, username), token_id, by_system=True
            )
    except NotFound:
        click.echo("Error: no such token for that user", err=True)
        sys.exit(1)
    click.echo(f"token {token_id} revoked")


users_cli = AppGroup("users", help="Users.")


@users_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    from dataclasses import asdict

    from .services import list_users

    with _platform().transaction() as session:
        users = list_users(session, date.today())
    if as_json:
        click.echo(json.dumps([asdict(u) for u in users], indent=2))
        return
    for u in users:
        flags = " corridor" if u.in_corridor else ""
        flags += " EXPIRED" if u.vetting_expired else ""
        click.echo(f"{u.username:<22} {u.agency:<9} {u.role:<24} {u.vetting:<5}{flags}")


# -- the operator's break-glass ---------------------------------------------------------------
# Run on the host, audited as "system" with the operator's OS user name in the detail. Apart from
# the first administrators at first start, these only narrow access (disable) or restore the
# user's own access (unlock, reset): nothing here grants a role, clearance or place, so the
# two-administrator rules of shareplatform/accounts/duties.py are not bypassed.
ADMIN_ROLES = ("USER_ADMIN", "POLICY_ADMIN")


def _operator() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        import os

        return f"uid {os.getuid()}"


def _audit(session, user, action: str, reason: str = "", detail: dict | None = None) -> None:
    from .auth import audit_user

    via = {"via": "command line", "operator": _operator(), **(detail or {})}
    audit_user(session, _platform().access, user, action, "done", reason, via)


def _code_hours() -> int:
    return int(current_app.config.get("RESET_CODE_HOURS", 4))


def _issue_code(session, user, action: str, reason: str = "", detail: dict | None = None) -> str:
    """Kill the user's credentials and store a new one-time code (shareplatform/accounts/
    recovery.py); the code itself is returned to print once, never stored."""
    from . import recovery

    code = recovery.new_code()
    hours = _code_hours()
    ended = recovery.reset_sign_in(
        session, user, recovery.code_hash(code), issued_by=None, hours=hours
    )
    _audit(session, user, action, reason, {**ended, "code_hours": hours, **(detail or {})})
    return code


def _print_code(username: str, code: str) -> None:
    click.echo(
        f"One-time sign-in code for {username} (shown once; pass it on out of band; it works "
        f"once, for {_code_hours()} hours, at /sign-in/recover, where they choose their own "
        f"password and enrol their second factor):"
    )
    click.echo(code)


def first_start_refusal(session) -> str:
    """Why the first administrators can no longer be made from the command line ("" if they can).

    One administrator alone cannot create another (duties.py: a new administrator waits for a
    second administrator's approval), so at first start the operator makes as many as the
    two-person rules need. The window closes for good once anyone has signed in (a password is
    chosen, or a recovery code used) or any other account exists; after that, administrators are
    made in the app."""
    from sqlalchemy import func

    from .models import RecoveryCode, User

    if session.scalar(select(func.count()).where(User.role.not_in(ADMIN_ROLES))):
        return "this instance already has users: make administrators in the app"
    used = session.scalar(select(func.count()).where(RecoveryCode.used_at.is_not(None)))
    chosen = session.scalar(select(func.count()).where(User.password_hash.is_not(None)))
    if used or chosen:
        return (
            "an administrator has already signed in: further administrators are made in the "
            "app, approved by a second administrator"
        )
    return ""


@users_cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--display-name", required=True)
@click.option("--agency", default="PLATFORM", show_default=True)
@click.option("--role", type=click.Choice(ADMIN_ROLES), default="USER_ADMIN", show_default=True)
@click.option(
    "--vetting", type=click.Choice(["BPSS", "CTC", "SC", "DV"]), default="SC", show_default=True
)
@click.option("--vetting-expires", type=click.DateTime(["%Y-%m-%d"]), default=None)
def create_admin(
    username: str,
    display_name: str,
    agency: str,
    role: str,
    vetting: str,
    vetting_expires,
) -> None:
    """First start: create an administrator with no password; print a one-time sign-in code.

    Refused once anyone has signed in or any other account exists."""
    from ..domain.errors import DomainError
    from .services import NewUser, create_user

    data = NewUser(
        username,
        display_name,
        role,
        vetting,
        vetting_expires.date() if vetting_expires else None,
        agency,
    )
    try:
        with _platform().transaction() as session:
            refusal = first_start_refusal(session)
            if refusal:
                _fail(f"refused: {refusal}")
            user = create_user(session, data)
            code = _issue_code(
                session,
                user,
                "user.create",
                "first administrator, at first start",
                {"role": user.role, "agency": user.agency, "vetting": user.vetting},
            )
    except DomainError as exc:
        _fail(str(exc))
    click.echo(f"{user.role} {user.username} created.")
    _print_code(user.username, code)


def _fail(message: str):
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@users_cli.command("disable")
@click.argument("username")
@click.option("--reason", required=True)
def disable(username: str, reason: str) -> None:
    """Disable an account now: its sessions end and its API tokens are revoked."""
    from ..db import utcnow
    from . import auth

    if not reason.strip():
        _fail("give the reason for disabling the account")
    with _platform().transaction() as session:
        user = _user(session, username)
        was = user.disabled_at is not None
        if not was:
            user.disabled_at = utcnow()
        ended = auth.revoke_credentials(session, user.id)
        _audit(session, user, "user.disable", reason.strip(), {**ended, "already": was})
    click.echo(
        f"{username} disabled; {ended['sessions_ended']} sessions ended, "
        f"{ended['tokens_revoked']} API tokens revoked"
    )


@users_cli.command("unlock")
@click.argument("username")
def unlock(username: str) -> None:
    """Lift a sign-in lockout: failed attempts and the username's throttle are forgotten."""
    from sqlalchemy import delete

    from ..db import utcnow
    from . import auth
    from .models import LoginThrottle

    with _platform().transaction() as session:
        user = _user(session, username)
        was_locked = user.locked_until is not None and user.locked_until > utcnow()
        user.failed_logins, user.locked_until = 0, None
        throttle = session.execute(
            delete(LoginThrottle).where(LoginThrottle.key == auth._user_key(user.username))
        ).rowcount
        _audit(session, user, "user.unlock", "", {"was_locked": was_locked, "throttle": throttle})
    click.echo(f"{username} unlocked" + ("" if was_locked else " (was not locked)"))


@users_cli.command("reset")
@click.argument("username")
@click.option("--reason", default="", help="Recorded in the audit entry.")
@click.option(
    "--privileged",
    is_flag=True,
    help="Confirm the reset of a corridor or administrator account (needs --reason).",
)
def reset(username: str, reason: str, privileged: bool) -> None:
    """Reset sign-in: password, second factor, sessions and API tokens stop working; print a
    one-time recovery code (as the user administration page does).

    In the app a privileged account's recovery waits for a second administrator; here, whoever
    holds the code holds the account, so it takes --privileged and a reason, and the runbook
    (docs/operations.md) has a second person witness it."""
    from .duties import privileged as is_privileged

    with _platform().transaction() as session:
        user = _user(session, username)
        needs_ack = is_privileged(user.role)
        if needs_ack and not (privileged and reason.strip()):
            _fail(
                f"{username} is a {user.role} account: in the app its recovery needs a second "
                "administrator; here pass --privileged and --reason, with a witness"
            )
        code = _issue_code(
            session, user, "user.reset_sign_in", reason.strip(), {"privileged": needs_ack}
        )
    click.echo(f"Sign-in of {username} reset; sessions ended and API tokens revoked.")
    _print_code(username, code)
