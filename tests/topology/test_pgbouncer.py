"""PgBouncer in transaction mode in front of PostgreSQL (PgBouncer before 1.21 keeps no prepared
statements): the app's normal flow through it, with far more executions of each statement than
psycopg's automatic prepare threshold, when SHAREPLATFORM_DB_PGBOUNCER=1 says the URL goes
through PgBouncer (shareplatform/db.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from shareplatform.db import ConnectionLimits, make_engine
from tests.support import pgbouncer
from tests.support.load import load_instance, post_note
from tests.support.processes import Gunicorn, flask, instance_env

pytestmark = pytest.mark.slow

NOTES = 30  # each request runs its statements again: well past psycopg's threshold of 5


@pytest.fixture
def bouncer(pg_server):  # type: ignore[no-untyped-def]
    if pg_server is None or not pgbouncer.available():
        pytest.skip("PostgreSQL or PgBouncer not available here")
    with pgbouncer.PgBouncer(pg_server) as running:
        yield running


def test_limits_are_set_on_each_transaction_through_pgbouncer(bouncer, pg_server) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(bouncer.url(pg_server.dbname), ConnectionLimits(via_pgbouncer=True))
    try:
        for _ in range(10):
            with engine.begin() as conn:
                shown = [
                    conn.execute(text(f"SHOW {name}")).scalar()
                    for name in ("statement_timeout", "lock_timeout")
                ]
                assert shown == ["30s", "10s"]
    finally:
        engine.dispose()


def test_the_app_reads_and_writes_through_pgbouncer(bouncer, pg_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = f"b_{uuid.uuid4().hex[:12]}"
    direct = pg_server.create_database(name)
    keys = tmp_path / "keys"
    seeded = load_instance(direct, keys, 1)  # migrations go straight to the server
    case_id, token = seeded.case_id, seeded.tokens[0]
    env = instance_env(bouncer.url(name), keys, SHAREPLATFORM_DB_PGBOUNCER="1")
    written = {}
    log = tmp_path / "gunicorn.log"
    with Gunicorn(env, workers=2, log=log) as server, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        for n in range(NOTES):
            body = f"Note {n} through the pooler."
            resp = post_note(http, server.url, case_id, f"Pooled {n}", body)
            assert resp.status_code == 201, resp.text[:500]
            written[resp.json()["id"]] = body
        for record_id, body in written.items():
            resp = http.get(f"{server.url}/api/v1/records/{record_id}", timeout=30)
            assert resp.status_code == 200, resp.text[:500]
            assert resp.json()["body"] == body
        for _ in range(10):
            case = http.get(f"{server.url}/api/v1/cases/{case_id}", timeout=30)
            assert case.status_code == 200, case.text[:500]
            line = http.get(f"{server.url}/api/v1/cases/{case_id}/records", timeout=30)
            assert line.status_code == 200, line.text[:500]
        titles = {i["record"]["title"] for i in line.json()["items"] if i["record"]}
        assert {f"Pooled {n}" for n in range(NOTES)} <= titles
    verify = flask(env, "audit", "verify")
    assert verify.returncode == 0 and "audit chain intact" in verify.stdout, verify.stderr
