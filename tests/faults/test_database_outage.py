"""The database goes away: pages answer a GOV.UK 503, the API a problem+json 503, both with
Retry-After and one log line per request (no traceback); the service resumes by itself when the
database is back (pooled connections are checked before use: shareplatform/db.py); /healthz
answers without the database, even on a process's first request."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from shareplatform.accounts import tokens
from shareplatform.accounts.models import User
from tests.factories import app_for, make_config, seeded_platform
from tests.support import postgres
from tests.support.web import sign_in

RECOVERY_ATTEMPTS = 50  # a generous bound: the first request after restart normally succeeds
RECOVERY_PAUSE = 0.1


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again once this returns: nothing listens


def _is_unavailable_page(resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 503, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "text/html"
    assert int(resp.headers["Retry-After"]) > 0
    assert "Sorry, the service is unavailable" in resp.get_data(as_text=True)


def _is_unavailable_problem(resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 503, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/problem+json"
    assert int(resp.headers["Retry-After"]) > 0
    assert resp.get_json(force=True)["status"] == 503


def _one_line_each(caplog: pytest.LogCaptureFixture) -> None:
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures, "the outage was not logged"
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in failures)


# -- an engine pointed where no database answers ----------------------------------------------
@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_cold_start_without_a_database(seeded, tmp_path: Path, caplog, backend: str) -> None:  # type: ignore[no-untyped-def]
    if backend == "postgres":
        url = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none?connect_timeout=2"
    else:  # a file that cannot be opened: its folder does not exist
        url = f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}"
    app = app_for_url(url, Path(seeded.config.KEYS_DIR))
    client = app.test_client()
    caplog.set_level(logging.INFO)
    assert client.get("/healthz").status_code == 200  # first request: no key, no database
    assert client.get("/readyz").status_code == 503
    _is_unavailable_page(client.get("/"))
    _is_unavailable_page(client.get("/sign-in"))
    _is_unavailable_problem(
        client.get("/api/v1/caseload", headers={"Authorization": "Bearer spt_x"})
    )
    _one_line_each(caplog)


def app_for_url(url: str, keys: Path):  # type: ignore[no-untyped-def]
    from shareplatform import create_app

    return create_app(make_config(url, keys))


# -- a real PostgreSQL stopped and started under a signed-in user ------------------------------
class _Restartable:
    """Stop and start a tests/support PostgresServer on the same port, keeping its data."""

    def __init__(self, server: postgres.PostgresServer) -> None:
        self.server = server
        assert server.tmpdir is not None
        self.data = server.tmpdir / "data"

    def stop(self) -> None:
        self.server._pg(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop"])

    def start(self) -> None:
        assert self.server.tmpdir is not None
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.server.port} "
            f"-c unix_socket_directories={self.server.socket_dir} -c fsync=off"
        )
        log = self.server.tmpdir / "server.log"
        self.server._pg(
            ["pg_ctl", "-D", str(self.data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start"]
        )


@pytest.fixture
def outage_server():  # type: ignore[no-untyped-def]
    if not postgres.available():
        pytest.skip("PostgreSQL not available here")
    with postgres.PostgresServer("outage") as server:
        yield server


def test_postgres_outage_and_recovery(outage_server, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    platform = seeded_platform(outage_server.url, tmp_path / "keys")
    with platform.transaction() as session:
        user = session.scalar(select(User).where(User.username == "com.cole"))
        _, raw = tokens.create_token(
            session, platform.access, user, "outage", "read-write", 1, by_system=True
        )
    app = app_for(platform)
    app.config["API_RATE_LIMIT"] = 10_000
    client = app.test_client()
    h = {"Authorization": f"Bearer {raw}"}
    try:
        landing = sign_in(client, platform, "com.cole")
        assert landing.status_code == 200
        page = landing.request.path
        assert client.get("/api/v1/caseload", headers=h).status_code == 200
        database = _Restartable(outage_server)
        database.stop()
        caplog.set_level(logging.INFO)
        _is_unavailable_page(client.get(page))
        _is_unavailable_problem(client.get("/api/v1/caseload", headers=h))
        assert client.get("/healthz").status_code == 200
        _one_line_each(caplog)
        database.start()
        assert _recovers(lambda: client.get("/api/v1/caseload", headers=h).status_code)
        assert _recovers(lambda: client.get(page).status_code)
    finally:
        app.extensions["shareplatform"].db.dispose()
        platform.db.dispose()


def _recovers(status) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(RECOVERY_ATTEMPTS):
        if status() == 200:
            return True
        time.sleep(RECOVERY_PAUSE)
    return False
