"""Shared fixtures. Databases: SQLite always; PostgreSQL from tests/support when available
(required when SHAREPLATFORM_REQUIRE_POSTGRES=1, as `make test` sets)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import SeededCopy, fresh_platform, seeded_platform
from tests.support import postgres


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


@pytest.fixture
def platform(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A migrated, key-bound platform with the default policy and no data, on each backend."""
    p = fresh_platform(db_url, tmp_path / "keys")
    yield p
    p.db.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
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
    p = fresh_platform(url, root / "keys")
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
