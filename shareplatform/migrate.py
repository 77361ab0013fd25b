"""Apply and inspect Alembic migrations for a configured database.

Migrations run under a schema lock, so two `db upgrade` runs at once (two hosts deploying, or
a deploy racing a cron job) serialise: the second waits, then finds the schema at head. On
PostgreSQL the lock is a session advisory lock; on SQLite an exclusive `flock` on a file beside
the database. The lock is re-entrant within a thread, so `db upgrade` can hold it across the
migration and the key and policy set-up that follow (shareplatform/cli.py).
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from .db import libpq_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# pg_advisory_lock key for schema changes: any constant no other lock in this product uses
ADVISORY_LOCK_KEY = 0x5348_4152_4550  # "SHAREP"
_held = threading.local()  # the URLs this thread holds the schema lock for


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def lock_file(url: str) -> Path | None:
    """The file beside a SQLite database that serialises migrations (None: in memory)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".migrate.lock")


@contextmanager
def _postgres_lock(url: str) -> Iterator[None]:
    # libpq_url: a primary-and-standby URL names its hosts the way libpq needs (shareplatform/db.py)
    engine = create_engine(libpq_url(url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:  # a session lock: released however the run ends
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
    finally:
        engine.dispose()


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:  # each open is its own lock, so threads serialise too
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Hold the database's schema lock (waiting for it); re-entrant within a thread."""
    held: frozenset[str] = getattr(_held, "urls", frozenset())
    if url in held:
        yield
        return
    backend = make_url(url).get_backend_name()
    lock = _postgres_lock(url) if backend == "postgresql" else _file_lock(lock_file(url))
    with lock:
        _held.urls = held | {url}
        try:
            yield
        finally:
            _held.urls = held


def upgrade(url: str, revision: str = "head") -> None:
    with schema_lock(url):
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    with schema_lock(url):
        command.downgrade(alembic_config(url), revision)


def heads(url: str = "sqlite://") -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())
