"""Flask commands: database, keys, policy, audit, users, demo data."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .platform import Platform


def _platform() -> Platform:
    return current_app.extensions["shareplatform"]  # type: ignore[no-any-return]


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
keys_cli = AppGroup("keys", help="Key-encryption keys: status, rotation, retirement, shredding.")
policy_cli = AppGroup("policy", help="Access policy: import from and export to policies/.")
audit_cli = AppGroup("audit", help="The audit log: verification.")
users_cli = AppGroup("users", help="Users.")
demo_cli = AppGroup("demo", help="Demonstration and benchmark data.")


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
    click.echo(_import_policy(None, if_empty=True))


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


# -- policy ---------------------------------------------------------------------------------------
@policy_cli.command("import")
@click.argument(
    "path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--if-empty", is_flag=True, help="Only when the database holds no policy yet.")
def policy_import(path: Path | None, if_empty: bool) -> None:
    """Load the policy from policies/policy.csv (or PATH) into the database, as a new version."""
    click.echo(_import_policy(path, if_empty))


def _import_policy(path: Path | None, if_empty: bool) -> str:
    from .access import policy_files, store
    from .domain.errors import NotPermitted
    from .policy_admin.services import record_import

    platform = _platform()
    source = path or policy_files.POLICY_PATH
    try:
        rules = policy_files.read(source)
    except policy_files.PolicyFileError as exc:
        _fail(f"{source}: {exc}")
    try:
        with platform.transaction() as session:
            if if_empty and store.load_rules(session):
                return "policy already loaded; nothing to do"
            # a numbered policy version, audited, refused if it would lock every administrator out
            version = record_import(session, platform.access, rules, str(source))
    except NotPermitted as exc:
        _fail(f"{source}: {exc}")
    return f"policy version {version}: {len(rules)} lines imported"


@policy_cli.command("export")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def policy_export(path: Path | None) -> None:
    """Write the live policy in the policies/policy.csv format (to PATH, or standard output)."""
    from .access import policy_files, store

    with _platform().transaction() as session:
        text = policy_files.render(store.load_rules(session))
    if path:
        path.write_text(text)
        click.echo(f"policy written to {path}", err=True)
    else:
        click.echo(text, nl=False)


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


# -- users ----------------------------------------------------------------------------------------
@users_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    from dataclasses import asdict

    from .accounts.services import list_users

    with _platform().transaction() as session:
        users = list_users(session, date.today())
    if as_json:
        click.echo(json.dumps([asdict(u) for u in users], indent=2))
        return
    for u in users:
        flags = " corridor" if u.in_corridor else ""
        flags += " EXPIRED" if u.vetting_expired else ""
        click.echo(f"{u.username:<22} {u.agency:<9} {u.role:<24} {u.vetting:<5}{flags}")


# -- demo -----------------------------------------------------------------------------------------
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
    from .demo import seed

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
    from .demo import current_code

    try:
        click.echo(current_code(_platform(), username))
    except PermissionError as exc:
        _fail(str(exc))


@demo_cli.command("generate")
@click.option("--nominals", default=1000, show_default=True)
@click.option("--records", default=100000, show_default=True)
@click.option("--seed", "seed_value", default=1, show_default=True)
def demo_generate(nominals: int, records: int, seed_value: int) -> None:
    """Bulk, deterministic data for benchmarks (10k nominals / 1M records in minutes)."""
    from .demo import generate

    stats = generate(
        _platform(),
        nominals=nominals,
        records=records,
        seed=seed_value,
        progress=lambda msg: click.echo(msg, err=True),
    )
    click.echo(stats)


def init_app(app: Flask) -> None:
    for group in (
        db_cli,
        keys_cli,
        policy_cli,
        audit_cli,
        users_cli,
        demo_cli,
        import_cli,
        tokens_cli,
    ):
        app.cli.add_command(group)
    audit_cli.add_command(verify_export_command)  # audit verify-export (shareplatform/mappa)


# -- import and API tokens (shareplatform/importer, shareplatform/api) -----------------------------
from .api.cli import tokens_cli  # noqa: E402
from .importer.cli import import_cli  # noqa: E402
from .mappa.cli import verify_export_command  # noqa: E402
