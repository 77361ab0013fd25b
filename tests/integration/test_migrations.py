"""Migrations: up to every head, down to base, up again, on SQLite and PostgreSQL; the CLI's
`db upgrade` is idempotent."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

from shareplatform import create_app
from shareplatform.migrate import downgrade, heads, upgrade
from shareplatform.models import Base
from tests.factories import make_config


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _revisions(url: str) -> set[str]:
    from sqlalchemy import text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    finally:
        engine.dispose()


def test_up_down_up(db_url: str) -> None:
    model_tables = set(Base.metadata.tables)
    upgrade(db_url)
    assert _tables(db_url) == model_tables
    assert _revisions(db_url) == set(heads())
    downgrade(db_url, "base")
    assert _tables(db_url) == set()
    upgrade(db_url)
    assert _tables(db_url) == model_tables
    assert _revisions(db_url) == set(heads())


def test_cli_upgrade_twice_is_idempotent(db_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    app = create_app(make_config(db_url, keys))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    key_files = sorted((p.relative_to(keys), p.read_bytes()) for p in keys.rglob("*.key"))
    assert key_files  # keys made on the fresh database

    app2 = create_app(make_config(db_url, keys))  # a second run: a new process in real life
    second = app2.test_cli_runner().invoke(args=["db", "upgrade"])
    assert second.exit_code == 0, second.output
    assert sorted((p.relative_to(keys), p.read_bytes()) for p in keys.rglob("*.key")) == key_files
    assert _tables(db_url) == set(Base.metadata.tables)
    assert _revisions(db_url) == set(heads())
    for a in (app, app2):
        a.extensions["shareplatform"].db.dispose()
