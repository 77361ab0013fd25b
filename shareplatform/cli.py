"""The platform's own commands: database migrations, keys and audit verification. Each feature
registers its own commands (`register(app)` in its package)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .platform import Platform


def _platform() -> Platform:
    return current_app.extensions["shareplatform"]


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
keys_cli = AppGroup("keys", help="Key-encryption keys: status, rotation, retirement, shredding.")
audit_cli = AppGroup("audit", help="The audit log: verification and inclusion proofs.")
search_cli = AppGroup("search", help="Search tokens of nominals (shareplatform/cases/search.py).")


@db_cli.command("upgrade")
@click.option("--revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations to the configured database, then check or create the keys."""
    from . import migrate

    platform = _platform()
    url = platform.config.DATABASE_URL
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # one lock over the migration and the first-start set-up: a second run waits, then finds
    # the keys made and the policy loaded
    with migrate.schema_lock(url):
        migrate.upgrade(url, revision)
        platform.bind()
        click.echo(f"Database at {revision}; keys checked in {platform.config.KEYS_DIR}")
        with platform.transaction() as session:  # rows from before facts were attested: once
            adopted = platform.system_writer.adopt_facts(session)
            from .widened import adopt_widened_stamps

            widened = adopt_widened_stamps(session, platform.system_writer)
        if adopted:
            click.echo(f"Stamped the authorisation facts of {adopted} existing rows")
        for table, stamped in widened.items():
            if stamped:
                click.echo(f"Stamped the widened facts of {stamped} existing rows of {table}")
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
def _witness_path(option: str | None) -> str | None:
    """The witness file to check against: the option, else the configured file (syslog: none)."""
    from .audit.witness import SYSLOG

    setting = option or _platform().config.AUDIT_WITNESS
    return None if not setting or setting.startswith(SYSLOG) else setting


@audit_cli.command("verify")
@click.option(
    "--from",
    "from_size",
    type=click.IntRange(min=0),
    default=0,
    help="Start from the stored checkpoint at this size (verified by an earlier run).",
)
@click.option(
    "--witness",
    "witness",
    type=click.Path(dir_okay=False),
    help="A witness file (or a copy of the syslog lines) instead of the configured one.",
)
def audit_verify(from_size: int, witness: str | None) -> None:
    """Recompute the Merkle tree; check every checkpoint, the head, the columns and the witness,
    and that every append-only object has the audit entry that created it."""
    import base64

    from .audit.verify import verify

    platform = _platform()
    path = _witness_path(witness)
    with platform.transaction() as session:
        result = verify(session, platform.signer.public_key, witness_path=path, from_size=from_size)
    for note in result.notes:
        click.echo(f"note: {note}")
    if result.ok:
        seen = f", the witness saw {result.witnessed}" if path else ""
        click.echo(
            f"audit chain intact: {result.entries} entries verified"
            + (f" from the checkpoint at {from_size}" if from_size else "")
            + f", {result.checkpoints} signed checkpoints; tree size {result.size}, "
            f"root {base64.b64encode(result.root).decode()}{seen}"
        )
        return
    for problem in result.problems[1:]:
        click.echo(f"also: {problem}", err=True)
    if result.first_broken is None:  # the entries hold; objects lack theirs (audit/orphans.py)
        _fail(f"objects without their audit entry: {result.problem}")
    _fail(f"audit log broken at entry {result.first_broken}: {result.problem}")


@audit_cli.command("prove")
@click.argument("seq", type=click.IntRange(min=1))
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file.")
def audit_prove(seq: int, output: str | None) -> None:
    """Print a JSON inclusion proof of entry SEQ under the newest signed checkpoint."""
    import json

    from .audit.proofs import covering, inclusion_proofs

    platform = _platform()
    with platform.transaction() as session:
        checkpoint = covering(session, seq)
        if checkpoint is None:  # sign the tree as it stands (witnessed once this commits)
            checkpoint = platform.access.audit.checkpoint(session)
        if seq > checkpoint.size:
            _fail(f"there is no audit entry {seq}: the log holds {checkpoint.size}")
        try:
            proof = inclusion_proofs(session, platform.signer.public_key, [seq], checkpoint)[seq]
        except ValueError as exc:
            _fail(str(exc))
    text = json.dumps(proof, indent=2, sort_keys=True)
    if output:
        Path(output).write_text(text + "\n")
        click.echo(f"proof of entry {seq} under the checkpoint at {checkpoint.size}: {output}")
    else:
        click.echo(text)


# -- housekeeping and backups (shareplatform/operations/) -----------------------------------------
def _operator() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        import os

        return f"uid {os.getuid()}"


def _audit_system(session, action: str, detail: dict[str, object]) -> None:
    from .audit.log import Event
    from .domain.labels import Classification

    _platform().access.record(
        session,
        None,
        Event(
            action=action,
            object_type="platform",
            outcome="done",
            label=Classification.OFFICIAL,
            detail={"via": "command line", "operator": _operator(), **detail},
        ),
    )


@click.command("housekeeping")
@with_appcontext
@click.option("--session-days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--throttle-hours", type=click.IntRange(min=1), default=24, show_default=True)
@click.option("--token-days", type=click.IntRange(min=1), default=90, show_default=True)
def housekeeping(session_days: int, throttle_hours: int, token_days: int) -> None:
    """Delete old ended sessions, closed sign-in throttle counters and long-expired API tokens.

    Safe to run from cron at any time; prints what it deleted and audits it."""
    from .db import utcnow
    from .operations.housekeeping import Retention, sweep

    platform = _platform()
    keep = Retention(session_days, throttle_hours, token_days)
    with platform.transaction() as session:
        swept = sweep(
            session,
            utcnow(),
            keep,
            session_absolute_hours=int(current_app.config.get("SESSION_ABSOLUTE_HOURS", 10)),
            lockout_minutes=int(current_app.config.get("LOGIN_LOCKOUT_MINUTES", 15)),
        )
        _audit_system(session, "housekeeping", {**swept.as_detail(), **keep.__dict__})
    click.echo(
        f"deleted {swept.sessions} sessions, {swept.throttle} throttle counters, "
        f"{swept.tokens} API tokens, {swept.challenges} security-key challenges"
    )


# -- search tokens (shareplatform/cases/search.py) ------------------------------------------------
@search_cli.command("backfill-tokens")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True)
def search_backfill_tokens(batch: int) -> None:
    """Give search tokens to nominals created before migration 0014 (their names are sealed, so
    only a run with the keys can); each batch opened through the system read path, audited
    before it opens. Safe to re-run: it finds only nominals still without tokens."""
    from .cases.search import backfill_tokens

    platform = _platform()
    done = backfill_tokens(
        platform.transaction,
        platform.system_writer,
        platform.indexer,
        batch,
        progress=lambda n: click.echo(f"  tokens written for {n} nominals", err=True),
    )
    with platform.transaction() as session:
        _audit_system(
            session, "search.backfill", {"nominals": done.tokened, "unreadable": done.unreadable}
        )
    click.echo(f"search tokens written for {done.tokened} nominals")
    if done.unreadable:
        click.echo(f"{done.unreadable} nominals did not open (tampered?): `flask audit verify`")


backup_cli = AppGroup("backup", help="SQLite backups (PostgreSQL: pg_dump, docs/operations.md).")


def _keys_location() -> str:
    config = _platform().config
    if config.KEY_PROVIDER == "pkcs11":
        return f"the HSM token {config.PKCS11_TOKEN!r} ({config.PKCS11_MODULE})"
    return str(Path(config.KEYS_DIR).resolve())


def _keys_warning() -> None:
    click.echo(
        f"Keys are NOT in the backup. They are in {_keys_location()}: escrow them separately "
        "(docs/operations.md); without them the backup opens nothing."
    )


@backup_cli.command("create")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def backup_create(path: Path) -> None:
    """Copy the database (online, consistently) and the audit witness into the new folder PATH."""
    from .operations import backup

    platform = _platform()
    try:
        backup.sqlite_path(platform.config.DATABASE_URL)
        with platform.transaction() as session:  # the backup holds the entry of its own making
            _audit_system(session, "backup.create", {"path": str(path.resolve())})
        made = backup.create(
            platform.config.DATABASE_URL, _witness_path(None), path, _keys_location()
        )
    except backup.BackupProblem as exc:
        _fail(str(exc))
    click.echo(f"backup at {path} (revision {made.revision}): {', '.join(sorted(made.files))}")
    _keys_warning()


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite an existing database.")
def backup_restore(path: Path, replace: bool) -> None:
    """Restore the backup in PATH into the configured database (and witness file), then check
    the keys open it and the audit log verifies (`audit verify`)."""
    from .operations import backup

    platform = _platform()
    platform.db.dispose()  # nothing of this process may hold the file being replaced
    try:
        made = backup.restore(
            path, platform.config.DATABASE_URL, _witness_path(None), replace=replace
        )
    except backup.BackupProblem as exc:
        _fail(str(exc))
    click.echo(f"restored the backup of {made.created_at} (revision {made.revision})")
    _keys_warning()
    platform.bind()  # fails loudly when these keys do not match the restored database
    with platform.transaction() as session:
        _audit_system(session, "backup.restore", {"path": str(path.resolve()), **made.__dict__})
    click.echo("keys match; now run `flask audit verify`")


def init_app(app: Flask) -> None:
    for group in (db_cli, keys_cli, audit_cli, backup_cli, search_cli):
        app.cli.add_command(group)
    app.cli.add_command(housekeeping)
