"""Shared fixtures. Databases: SQLite always; PostgreSQL from tests/support when available
(required when SHAREPLATFORM_REQUIRE_POSTGRES=1, as `make test` sets)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from shareplatform.migrate import upgrade
from tests.factories import SeededCopy, close_apps, fresh_platform, seeded_platform
from tests.support import postgres


@pytest.fixture(autouse=True)
def _close_apps() -> Iterator[None]:
    """Each app a test made over a platform closes its pool when the test ends (a PostgreSQL
    connection left to the garbage collector warns in whichever test collects it)."""
    yield
    close_apps()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.PostgresServer | None]:
    if not postgres.available():
        if os.environ.get("SHAREPLATFORM_REQUIRE_POSTGRES") == "1":
            pytest.fail(
                "PostgreSQL is required (SHAREPLATFORM_REQUIRE_POSTGRES=1) but not available"
            )
        yield None
        return
    with postgres.PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    server = request.getfixturevalue("pg_server")
    if server is None:
        pytest.skip("PostgreSQL not available here")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


class MigratedTemplates:
    """Each backend's schema migrated once per session; a test's database starts as a copy of it
    (SQLite: the file, by SQLite's backup; PostgreSQL: CREATE DATABASE ... TEMPLATE), so the
    migrations run once instead of once per test. tests/integration/test_migrations.py still
    runs them on empty databases."""

    def __init__(self, root: Path, request: pytest.FixtureRequest) -> None:
        self._root, self._request = root, request
        self._sqlite: Path | None = None
        self._postgres: str | None = None

    def copy(self, db_url: str) -> str:
        """A migrated database at `db_url` (an empty one the db_url fixture made); its URL."""
        if db_url.startswith("sqlite"):
            if self._sqlite is None:
                self._sqlite = self._root / "migrated.sqlite"
                upgrade(f"sqlite:///{self._sqlite}")
            with (
                closing(sqlite3.connect(self._sqlite)) as src,
                closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as dst,
            ):
                src.backup(dst)
            return db_url
        server = self._request.getfixturevalue("pg_server")
        if self._postgres is None:
            self._postgres = "tmpl_migrated"
            upgrade(server.create_database(self._postgres))
        name = make_url(db_url).database
        assert name is not None
        server.drop_database(name)
        return server.create_database(name, template=self._postgres)


@pytest.fixture(scope="session")
def migrated(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> MigratedTemplates:
    return MigratedTemplates(tmp_path_factory.mktemp("migrated"), request)


@pytest.fixture
def platform(db_url: str, tmp_path: Path, migrated: MigratedTemplates):  # type: ignore[no-untyped-def]
    """A migrated, key-bound platform with the default policy and no data, on each backend."""
    p = fresh_platform(migrated.copy(db_url), tmp_path / "keys", migrate=False)
    yield p
    p.db.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_platform(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    migrated: MigratedTemplates,
) -> Iterator[object]:
    """A fresh platform (default policy, no data) shared by one module, on each backend: for
    modules that build their data once and then only read it."""
    root: Path = tmp_path_factory.mktemp("modplat")
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'db.sqlite'}"
    else:
        server = request.getfixturevalue("pg_server")
        if server is None:
            pytest.skip("PostgreSQL not available here")
        url = server.create_database(f"m_{uuid.uuid4().hex[:12]}")
    p = fresh_platform(migrated.copy(url), root / "keys", migrate=False)
    yield p
    p.db.dispose()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> SeededCopy:
    """The demo data set, seeded once per test session on SQLite."""
    root = tmp_path_factory.mktemp("seeded")
    p = seeded_platform(f"sqlite:///{root / 'db.sqlite'}", root / "keys")
    p.db.dispose()
    return SeededCopy(root / "db.sqlite", root / "keys")


@pytest.fixture
def seeded(seeded_template: SeededCopy, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A private copy of the demo data set (SQLite) for a test that may write."""
    from shareplatform.platform import Platform
    from tests.factories import make_config

    url, keys = seeded_template.copy(tmp_path / "seeded")
    p = Platform(make_config(url, keys))
    p.bind()
    yield p
    p.db.dispose()


@pytest.fixture(scope="session")
def seeded_pg(pg_server, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The demo data set on PostgreSQL, seeded once per session (read-only use)."""
    if pg_server is None:
        pytest.skip("PostgreSQL not available here")
    root = tmp_path_factory.mktemp("seeded-pg")
    p = seeded_platform(pg_server.create_database("seeded"), root / "keys")
    yield p
    p.db.dispose()
