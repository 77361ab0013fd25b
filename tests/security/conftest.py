"""Module-scoped platforms for security tests that build their data once and then only read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import fresh_platform


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    """A fresh platform (default policy, no data) shared by one module, on each backend."""
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
