"""The platform's own commands: database migrations, keys and audit verification. Each feature
registers its own commands (`register(app)` in its package)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .platform import Platform


def _platform() -> Platform:
    return current_app.extensions["shareplatform"]


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
keys_cli = AppGroup("keys", help="Key-encryption keys: status, rotation, retirement, shredding.")
audit_cli = AppGroup("audit", help="The audit log: verification.")


@db_cli.command("upgrade")
@click.option("--revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations to the configured database, then check or create the keys."""
    from . import migrate

    platform = _platform()
    url = platform.config.DATABASE_URL
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url, revision)
    platform.bind()
    click.echo(f"Database at {revision}; keys checked in {platform.config.KEYS_DIR}")
    # first set-up: the default policy from policies/, so the instance is usable at once
    from .policy_admin.cli import import_policy

    click.echo(import_policy(None, if_empty=True))


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from . import migrate

    migrate.downgrade(_platform().config.DATABASE_URL, revision)
    click.echo(f"Database downgraded to {revision}")


# -- keys -----------------------------------------------------------------------------------------
_LEVEL = click.Choice(["OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET"])


@keys_cli.command("status")
def keys_status() -> None:
    """KEK versions per level, their state, and how many data keys each wraps."""
    admin = _platform().key_admin
    rows = admin.status()
    click.echo(f"{'level':<20} {'version':>7} {'state':<10} {'data keys':>10}")
    for r in rows:
        click.echo(f"{r.level:<20} {r.version:>7} {r.state:<10} {r.data_keys:>10}")
    for r in rows:
        if r.state == "active" and r.data_keys:
            click.echo(
                f"{r.level} v{r.version} still wraps {r.data_keys} data keys: "
                f"`keys rotate --level {r.level}` finishes re-wrapping them"
            )
        elif r.state == "active":
            click.echo(f"{r.level} v{r.version} is unused: `keys retire` can destroy it")
        elif r.state == "retiring":
            click.echo(
                f"{r.level} v{r.version}: a retirement was interrupted; "
                f"`keys retire --level {r.level} --version {r.version}` completes it"
            )


@keys_cli.command("rotate")
@click.option("--level", required=True, type=_LEVEL)
@click.option("--batch", default=2000, show_default=True)
def keys_rotate(level: str, batch: int) -> None:
    """New KEK version for LEVEL; re-wrap its data keys online in batches.

    After an interruption, running it again finishes the re-wrap instead of making a new version.
    """
    from .crypto.keys import KeyProblem

    try:
        done = _platform().key_admin.rotate(
            level, batch, progress=lambda n: click.echo(f"  re-wrapped {n} data keys", err=True)
        )
    except KeyProblem as exc:
        _fail(str(exc))
    what = "interrupted rotation finished" if done.resumed else "rotated"
    click.echo(f"{level}: {what}; now v{done.version}; {done.rewrapped} data keys re-wrapped")


@keys_cli.command("retire")
@click.option("--level", required=True, type=_LEVEL)
@click.option("--version", "version", required=True, type=int)
def keys_retire(level: str, version: int) -> None:
    """Retire and destroy a KEK version that no data key and no running process uses."""
    from .crypto.keys import KeyProblem

    try:
        resumed = _platform().key_admin.retire(level, version)
    except KeyProblem as exc:
        _fail(str(exc))
    note = " (completing an interrupted retirement)" if resumed else ""
    click.echo(f"{level} v{version} retired and destroyed{note}")


@keys_cli.command("shred")
@click.argument("record_id")
@click.option("--reason", required=True)
def keys_shred(record_id: str, reason: str) -> None:
    """Crypto-shred one record: destroy its data key so it can never be read again."""
    from .records.admin import shred_record

    platform = _platform()
    try:
        with platform.transaction() as session:
            shred_record(session, platform.key_admin, record_id, reason)
    except LookupError as exc:
        _fail(str(exc))
    click.echo(f"record {record_id} shredded")


# -- audit ----------------------------------------------------------------------------------------
@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain and the checkpoint signatures; name the first broken entry."""
    from .audit.verify import verify

    platform = _platform()
    with platform.transaction() as session:
        result = verify(session, platform.signer.public_key)
    if result.ok:
        click.echo(
            f"audit chain intact: {result.entries} entries, {result.checkpoints} signed checkpoints"
        )
        return
    _fail(f"audit chain broken at entry {result.first_broken}: {result.problem}")


def init_app(app: Flask) -> None:
    for group in (db_cli, keys_cli, audit_cli):
        app.cli.add_command(group)
