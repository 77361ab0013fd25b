"""`flask --app wsgi demo seed|code`: demonstration data and its sign-ins."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

from ..platform import Platform


def _platform() -> Platform:
    return current_app.extensions["shareplatform"]


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _not_in_production() -> None:
    """Demo users share one known password and second-factor secret: never on a real service."""
    if _platform().config.PRODUCTION:
        _fail("demo commands are refused when SHAREPLATFORM_PRODUCTION=1")


demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("seed")
@click.option(
    "--password", default=None, help="Password for every demo user (default: random, printed once)."
)
@click.option(
    "--totp-secret", default=None, help="Base32 second-factor secret for every demo user."
)
@click.option("--if-empty", is_flag=True, help="Only when the database holds no users yet.")
def demo_seed(password: str | None, totp_secret: str | None, if_empty: bool) -> None:
    """Create demonstration agencies' users, nominals, cases, teams and records."""
    from .seed import seed

    _not_in_production()
    platform = _platform()
    platform.bind()
    result = seed(platform, password=password, totp_secret=totp_secret, if_empty=if_empty)
    if result is None:
        click.echo("demo data already present; nothing to do")
        return
    click.echo(result.summary())


@demo_cli.command("code")
@click.argument("username")
def demo_code(username: str) -> None:
    """Print a demo user's current second-factor code (demo instances only)."""
    from .seed import current_code

    _not_in_production()
    try:
        click.echo(current_code(_platform(), username))
    except PermissionError as exc:
        _fail(str(exc))
