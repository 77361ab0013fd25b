"""Backups of a SQLite deployment: a consistent copy of the database and the audit witness.

The copy is taken with sqlite3's online backup API, so a running service can keep writing. The
witness is copied first: a checkpoint is witnessed only after it commits, so the database copy
that follows holds every checkpoint the witness copy saw, and `audit verify` passes on a restore.

Keys are never in a backup: a backup plus its keys opens every record, so the keys are escrowed
separately (keys/README.md, docs/operations.md). PostgreSQL is backed up with pg_dump and
pg_restore, as docs/operations.md describes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

DATABASE = "database.sqlite3"
WITNESS = "audit-witness.jsonl"
MANIFEST = "manifest.json"


class BackupProblem(RuntimeError):
    """A backup cannot be made or restored; the message says why."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    revision: str
    files: dict[str, str]  # name -> SHA-256
    keys: str  # where the keys were, for the record: they are not in the backup

    def write(self, folder: Path) -> None:
        text = json.dumps(self.__dict__, indent=2, sort_keys=True)
        (folder / MANIFEST).write_text(text + "\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            return cls(**json.loads((folder / MANIFEST).read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise BackupProblem(f"{folder} is not a backup: {exc}") from None


def sqlite_path(url: str) -> Path:
    """The database file of a SQLite URL; anything else is refused."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupProblem(
            "this command backs up SQLite only: use pg_dump and pg_restore for PostgreSQL "
            "(docs/operations.md)"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupProblem("an in-memory database cannot be backed up")
    return Path(parsed.database)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy through the backup API (readers and writers may carry on)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # one self-contained file (the copy takes the source's WAL mode; the app sets it again)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def _revision(database: Path) -> str:
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return ""
    finally:
        con.close()
    return ",".join(sorted(r[0] for r in rows))


def create(url: str, witness: str | None, folder: Path, keys: str) -> Manifest:
    """Back up the database (and witness file, if any) into `folder`, which must be new or empty."""
    source = sqlite_path(url)
    if not source.exists():
        raise BackupProblem(f"there is no database at {source}")
    if folder.exists() and any(folder.iterdir()):
        raise BackupProblem(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    if witness and Path(witness).exists():  # first: see the module docstring
        shutil.copyfile(witness, folder / WITNESS)
        files[WITNESS] = _sha256(folder / WITNESS)
    _copy_database(source, folder / DATABASE)
    files[DATABASE] = _sha256(folder / DATABASE)
    manifest = Manifest(
        datetime.now(UTC).isoformat(timespec="seconds"), _revision(folder / DATABASE), files, keys
    )
    manifest.write(folder)
    return manifest


def _set_aside(path: Path) -> Path:
    """Keep an existing file under a new name rather than overwrite it (a witness is evidence)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    path.rename(aside)
    return aside


def restore(folder: Path, url: str, witness: str | None, *, replace: bool = False) -> Manifest:
    """Restore a backup made by `create` into the configured database and witness file.

    The files are checked against the manifest first. An existing database is refused unless
    `replace`; an existing witness file is then set aside, never overwritten."""
    manifest = Manifest.read(folder)
    for name, digest in manifest.files.items():
        if not (folder / name).exists() or _sha256(folder / name) != digest:
            raise BackupProblem(f"{folder / name} is missing or does not match the manifest")
    target = sqlite_path(url)
    if target.exists() and not replace:
        raise BackupProblem(f"a database already exists at {target}: pass --replace to overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy_database(folder / DATABASE, target)
    if WITNESS in manifest.files and witness:
        path = Path(witness)
        if path.exists():
            _set_aside(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / WITNESS, path)
    return manifest
