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
