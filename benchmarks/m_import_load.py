"""Import under load: other users' latency (p99) while a large records import runs, against the
same clients with no import, in alternating slices (quiet, import, import, quiet, ...).

The secure server is gunicorn (2 workers) on the small database; its clients are two signed-in
corridor users loading the case page and two API clients posting notes on the bench case (the
writes are what an import contends with: SQLite's write lock, the audit log's head row). The
import runs in a process of its own (forked from this one, with its own Platform), exactly the
path `flask import records` takes, in chunks of the importer's default size.

Goal: other users' p99 during the import at most twice their p99 without it."""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import requests
from sqlalchemy import select

from shareplatform.accounts.models import User
from shareplatform.accounts.tokens import create_token
from shareplatform.importer import formats
from shareplatform.importer import records as rec
from shareplatform.importer.common import CHUNK

from .core import Result, percentile
from .env import WRITER, Env, config_for
from .import_throughput import ImportRun
from .m_server import USERS, gunicorn, sign_in

ROUNDS = 2  # import slices (and as many quiet ones), ordered quiet, import, import, quiet


@dataclass
class Clients:
    """Latencies of each kind of request, and the failures, over a slice."""

    reads: list[float]
    writes: list[float]
    errors: list[str]


def _reader(base: str, session: requests.Session, path: str, stop: threading.Event, out: Clients):  # type: ignore[no-untyped-def]
    while not stop.is_set():
        t = time.perf_counter()
        try:
            r = session.get(base + path, timeout=60, allow_redirects=False)
            if r.status_code != 200:
                out.errors.append(f"read HTTP {r.status_code}")
        except requests.RequestException as exc:
            out.errors.append(type(exc).__name__)
        out.reads.append(time.perf_counter() - t)


def _writer(base: str, token: str, case_id: str, stop: threading.Event, out: Clients):  # type: ignore[no-untyped-def]
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        n = 0
        while not stop.is_set():
            n += 1
            note = {
                "record_type": "CONTACT_OFFICE",
                "occurred_on": date.today().isoformat(),
                "classification": "OFFICIAL-SENSITIVE",
                "title": f"Office contact {n}",
                "body": "Reported in as required; no concerns raised.",
            }
            t = time.perf_counter()
            try:
                r = http.post(f"{base}/api/v1/cases/{case_id}/records", json=note, timeout=60)
                if r.status_code != 201:
                    out.errors.append(f"write HTTP {r.status_code}")
            except requests.RequestException as exc:
                out.errors.append(type(exc).__name__)
            out.writes.append(time.perf_counter() - t)


def _import_child(url: str, keys: Path, raw: bytes, author: str) -> None:
    from shareplatform.importer.common import yield_cpu_to_requests
    from shareplatform.platform import Platform

    yield_cpu_to_requests()  # as `flask import` does (shareplatform/importer/cli.py)
    platform = Platform(config_for(url, keys))
    platform.bind()
    report = rec.import_records(
        platform, author=author, extract=formats.parse(raw, rec.COLUMNS, "json")
    )
    if not report.ok:
        raise SystemExit(report.summary())


def import_under_load(env: Env, rows: int) -> list[Result]:
    run = ImportRun(env.platform, rows, WRITER)
    files = [run.new_file() for _ in range(ROUNDS)]
    with env.platform.db.transaction() as s:
        writer = s.scalar(select(User).where(User.username == WRITER))
        tokens = [
            create_token(
                s,
                env.platform.access,
                writer,
                f"load-{n}-{run.run}",
                "read-write",
                1,
                by_system=True,
            )[1]
            for n in range(2)
        ]
    env.platform.db.dispose()  # the forked import must not share this process's connections
    quiet, loaded = Clients([], [], []), Clients([], [], [])
    imports: list[float] = []
    fork = multiprocessing.get_context("fork")
    extra = {"SHAREPLATFORM_API_RATE_LIMIT": "1000000"}
    with gunicorn(env, "wsgi:app", extra=extra) as base:
        sessions = [sign_in(base, u) for u in USERS[:2]]
        path = f"/cases/{env.case_id}"
        pending = iter(files)
        for k in range(ROUNDS * 2):
            importing = (k + k // 2) % 2 == 1  # quiet, import, import, quiet, ...
            out = loaded if importing else quiet
            stop = threading.Event()
            pool = [
                threading.Thread(target=_reader, args=(base, s, path, stop, out)) for s in sessions
            ] + [
                threading.Thread(target=_writer, args=(base, t, str(env.case_id), stop, out))
                for t in tokens
            ]
            for t in pool:
                t.start()
            if importing:
                started = time.perf_counter()
                child = fork.Process(
                    target=_import_child,
                    args=(env.url, env.keys_dir, next(pending), WRITER),
                )
                child.start()
                child.join(timeout=900)
                imports.append(time.perf_counter() - started)
                if child.exitcode != 0:
                    stop.set()
                    raise RuntimeError(f"the import exited with {child.exitcode}")
            else:  # as long as an import slice, so that both sides weigh alike
                time.sleep(imports[-1] if imports else 10.0)
            stop.set()
            for t in pool:
                t.join(timeout=120)
    return _figures(rows, quiet, loaded, imports)


def _figures(rows: int, quiet: Clients, loaded: Clients, imports: list[float]) -> list[Result]:
    def p99(values: list[float]) -> float:
        return percentile(values, 99) * 1000

    q_all, l_all = quiet.reads + quiet.writes, loaded.reads + loaded.writes
    note = (
        f"{ROUNDS} import slices of {rows:,} rows (chunks of {CHUNK}), "
        f"{', '.join(f'{s:.1f}' for s in imports)} s each, alternating with quiet slices; "
        f"2 case-page readers + 2 API writers; reads p99 {p99(quiet.reads):.0f} -> "
        f"{p99(loaded.reads):.0f} ms, writes p99 {p99(quiet.writes):.0f} -> "
        f"{p99(loaded.writes):.0f} ms; {len(q_all)} and {len(l_all)} requests; "
        f"errors {len(quiet.errors)} / {len(loaded.errors)}"
        + (f" (first: {(quiet.errors + loaded.errors)[0]})" if quiet.errors + loaded.errors else "")
    )
    return [
        Result.compared(
            "9 import load",
            f"other users' p99 during a {rows:,}-row import",
            p99(l_all),
            "ms",
            "same clients, no import (alternating slices)",
            p99(q_all),
            goal="ratio <= 2",
            met=lambda v, r: r <= 2,
            note=note,
            reads_p99_ms=[p99(quiet.reads), p99(loaded.reads)],
            writes_p99_ms=[p99(quiet.writes), p99(loaded.writes)],
            import_seconds=imports,
        ),
        Result(
            "9 import load",
            "errors (quiet / during import)",
            float(len(quiet.errors) + len(loaded.errors)),
            "requests",
            goal="== 0",
            met=not quiet.errors and not loaded.errors,
        ),
    ]
