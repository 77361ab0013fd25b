"""Migrations under a lock (shareplatform/migrate.py): two upgrades of a fresh database at once
both succeed and leave the schema at head, on SQLite and PostgreSQL; an upgrade waits while
another holds the lock."""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, inspect, text

from shareplatform.migrate import heads, schema_lock, upgrade
from shareplatform.models import Base


def _state(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        with engine.connect() as conn:
            revisions = {
                r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))
            }
        return tables, revisions
    finally:
        engine.dispose()


def _run(url: str, errors: list[BaseException]) -> None:
    try:
        upgrade(url)
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


def test_two_concurrent_upgrades_both_succeed(db_url: str) -> None:
    errors: list[BaseException] = []
    runs = [threading.Thread(target=_run, args=(db_url, errors)) for _ in range(2)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert errors == []
    assert _state(db_url) == (set(Base.metadata.tables), set(heads()))


def test_an_upgrade_waits_for_the_lock(db_url: str) -> None:
    errors: list[BaseException] = []
    waiting = threading.Thread(target=_run, args=(db_url, errors))
    with schema_lock(db_url):
        upgrade(db_url)  # re-entrant for the holder
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive()  # blocked on the lock, however long it is held
    waiting.join()
    assert errors == []
    assert _state(db_url) == (set(Base.metadata.tables), set(heads()))
