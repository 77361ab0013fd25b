"""PostgreSQL stopped (pg_ctl stop -m fast, then -m immediate) and started again on the same
port while gunicorn (2 workers) serves writer clients.

During the outage the API answers a problem+json 503 with Retry-After, never a 500. After the
restart the pool's pre-ping (shareplatform/db.py) replaces the dead connections: the seconds from
the server accepting connections to the first acknowledged write are measured (bounded by a
generous RECOVERY_DEADLINE) and recorded in test-results/faults.json. Every acknowledged write
reads back, nothing is stored twice or half-written, the audit log verifies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
import requests

from tests.support import integrity, postgres
from tests.support.load import LoadInstance, Writers, load_instance, settle, wait_for
from tests.support.processes import Gunicorn

pytestmark = pytest.mark.slow

WRITERS = 4
RECOVERY_DEADLINE = 10.0  # seconds: generous; a bound on the wait, not a performance goal
PROBES = 4  # outage answers checked per outage


@pytest.fixture
def server() -> Iterator[postgres.PostgresServer]:
    if not postgres.available():
        pytest.skip("PostgreSQL not available here")
    with postgres.PostgresServer("restart") as pg:
        # the throwaway cluster commits asynchronously for speed; an immediate stop would then
        # lose acknowledged commits that production (synchronous_commit on) keeps
        with psycopg.connect(pg.url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("ALTER DATABASE restart SET synchronous_commit = on")
        yield pg


@pytest.fixture
def instance(server: postgres.PostgresServer, tmp_path: Path) -> LoadInstance:
    return load_instance(server.url, tmp_path / "keys", WRITERS + 1)


def unavailable(resp: requests.Response) -> str:
    """'' when the answer is the API's outage answer; otherwise what is wrong with it."""
    retry = resp.headers.get("Retry-After", "")
    if (
        resp.status_code == 503
        and resp.headers.get("Content-Type", "").startswith("application/problem+json")
        and retry.isdigit()
        and int(retry) > 0
        and resp.json().get("status") == 503
    ):
        return ""
    return f"{resp.status_code} {resp.headers.get('Content-Type')} {retry!r} {resp.text[:200]}"


def probe(base: str, token: str, case_id: str) -> list[str]:
    """A read and a write during the outage, each answered as the outage answer."""
    wrong = []
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        for _ in range(PROBES // 2):
            wrong.append(unavailable(http.get(f"{base}/api/v1/caseload", timeout=30)))
            note = {
                "record_type": "MINUTES",
                "occurred_on": date.today().isoformat(),
                "classification": "SECRET",
                "title": "Probe during the outage",
                "body": "Written while the database was down.",
            }
            wrong.append(
                unavailable(
                    http.post(f"{base}/api/v1/cases/{case_id}/records", json=note, timeout=30)
                )
            )
    return [w for w in wrong if w]


def outage(
    pg: postgres.PostgresServer, mode: str, writers: Writers, instance: LoadInstance, base: str
) -> dict[str, object]:
    before = len(writers.acked)
    wait_for(lambda: len(writers.acked) >= before + 10, 60, "writes before the outage")
    pg.halt(mode)
    stopped = len(writers.acked)
    wrong = probe(base, instance.tokens[WRITERS], instance.case_id)
    pg.resume()  # returns once the server accepts connections
    accepting = time.monotonic()
    wait_for(
        lambda: any(a.at > accepting for a in writers.acked),
        RECOVERY_DEADLINE,
        f"a write within {RECOVERY_DEADLINE} s of the restart",
    )
    first = min(a.at for a in writers.acked if a.at > accepting)
    assert not wrong, wrong
    return {
        "mode": mode,
        "recovery_seconds": round(first - accepting, 3),
        "acknowledged_before_stop": stopped,
        "outage_answers_checked": PROBES,
    }


def test_postgres_stopped_and_restarted_under_load(
    server: postgres.PostgresServer, instance: LoadInstance, tmp_path: Path
) -> None:
    outages = []
    with Gunicorn(instance.env, workers=2, log=tmp_path / "gunicorn.log") as app:
        with Writers(app.url, instance.case_id, instance.tokens[:WRITERS], tag="r") as writers:
            for mode in ("fast", "immediate"):
                outages.append(outage(server, mode, writers, instance, app.url))
            after = len(writers.acked)
            wait_for(lambda: len(writers.acked) >= after + 10, 60, "writes after the outages")
        acked = list(writers.acked)
        outcome = settle(instance, acked, app.url)

    for o in outages:
        integrity.report(f"postgres_restart[{o['mode']}]", **o)
    integrity.report(
        "postgres_restart[total]",
        **outcome.figures(),
        refused_500=sum(1 for r in writers.refused if r.startswith("500")),
        refused_503=sum(1 for r in writers.refused if r.startswith("503")),
        refused_other=sum(1 for r in writers.refused if not r.startswith(("500", "503"))),
    )
    assert not [r for r in writers.refused if not r.startswith("503")], writers.refused[:5]
    assert outcome.lost == 0
    assert outcome.duplicated == 0
    assert outcome.half_written == 0, outcome.integrity.problems()
    assert "audit chain intact" in outcome.audit_verify, outcome.audit_verify
