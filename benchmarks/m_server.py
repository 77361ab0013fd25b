"""Measure 7: gunicorn (2 workers), 4 and 16 concurrent signed-in clients on the case page, against
the same page from plaintext rows with no security (benchmarks.plain_app), alternating in slices.

Goals: the secure server answers at least 0.75 of the no-security server's requests per second,
with a p99 latency at most 1.5 times its p99, at each client count."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import pyotp
import requests

from .core import Result, percentile
from .env import DEMO_PASSWORD, DEMO_TOTP, REPO, Env, cli_env

USERS = ("honsu.hughes", "lro.lewis", "sol.santos")  # corridor members of the bench case's panel
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(
    env: Env, app: str, workers: int = 2, extra: dict[str, str] | None = None
) -> Iterator[str]:
    port = _port()
    variables = cli_env(env.url, env.keys_dir) | (extra or {})
    # the server's log goes to a file: a pipe nobody reads fills up and blocks every worker
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                app,
            ],
            cwd=REPO,
            env=variables,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"gunicorn {app} exited: {log.read()}")
                try:
                    requests.get(base + "/", timeout=10)
                    break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"gunicorn {app} did not start") from None
                    time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _csrf(html: str) -> str:
    m = _CSRF.search(html)
    if not m:
        raise RuntimeError("no csrf_token on the form")
    return m.group(1) or m.group(2)


def sign_in(base: str, username: str) -> requests.Session:
    """Through the real forms: password, then the second-factor code."""
    s = requests.Session()
    page = s.get(base + "/sign-in", timeout=30)
    r = s.post(
        base + "/sign-in",
        data={"csrf_token": _csrf(page.text), "username": username, "password": DEMO_PASSWORD},
        timeout=30,
    )
    if "/sign-in/code" not in r.url:
        raise RuntimeError(f"password step failed for {username}: HTTP {r.status_code} at {r.url}")
    r = s.post(
        r.url, data={"csrf_token": _csrf(r.text), "code": pyotp.TOTP(DEMO_TOTP).now()}, timeout=30
    )
    if "/sign-in" in r.url:
        raise RuntimeError(
            f"second-factor step failed for {username}: HTTP {r.status_code} at {r.url}"
        )
    return s


def load(
    url: str,
    sessions: list[requests.Session],
    clients: int,
    seconds: float,
    latencies: list[float],
    errors: list[str],
) -> int:
    """`clients` threads requesting `url` for `seconds`; returns the requests completed."""
    stop = time.monotonic() + seconds
    done = [0]
    lock = threading.Lock()

    def client(i: int) -> None:
        s = requests.Session()
        s.cookies.update(sessions[i % len(sessions)].cookies)
        mine, bad = [], []
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                r = s.get(url, timeout=60, allow_redirects=False)
                ok = r.status_code == 200 and "SECRET-ONLY-TEXT-" in r.text
                if not ok:
                    bad.append(f"HTTP {r.status_code}")
            except requests.RequestException as exc:
                bad.append(type(exc).__name__)
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)
            done[0] += len(mine)

    pool = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return done[0]


@dataclass(frozen=True)
class Side:
    """One server's figures under one client count."""

    rps: float
    p50: float  # ms
    p95: float
    p99: float
    errors: int
    requests: int
    first_error: str

    @classmethod
    def of(cls, latencies: list[float], errors: list[str], elapsed: float) -> Side:
        p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (50, 95, 99))
        first = errors[0] if errors else ""
        return cls(len(latencies) / elapsed, p50, p95, p99, len(errors), len(latencies), first)


def _compare(
    secure_base: str,
    plain_base: str,
    path: str,
    sessions: list[requests.Session],
    clients: int,
    seconds: float,
    slices: int,
) -> tuple[Side, Side]:
    """Both servers under `clients` threads, in alternating slices (secure, plain, plain, ...)."""
    stats: dict[str, tuple[list[float], list[str], list[float]]] = {
        "secure": ([], [], [0.0]),
        "plain": ([], [], [0.0]),
    }
    for k in range(slices * 2):
        which = ("secure", "plain")[(k + k // 2) % 2]
        base = secure_base if which == "secure" else plain_base
        lat, errs, elapsed = stats[which]
        start = time.perf_counter()
        load(
            base + path,
            sessions if which == "secure" else [requests.Session()],
            clients,
            seconds / slices,
            lat,
            errs,
        )
        elapsed[0] += time.perf_counter() - start
    secure, plain = (Side.of(lat, errs, el[0]) for lat, errs, el in stats.values())
    return secure, plain


def _figures(clients: int, s: Side, p: Side, seconds: float, slices: int) -> list[Result]:
    who = f"{clients} clients"
    base = f"no-security page, {who}"
    floor = f"the no-security page under {clients} clients (no sign-in, access, audit or crypto)"
    note = (
        f"{clients} client threads on the same 2 cores, {seconds:g} s each side "
        f"in {slices} alternating slices; signed in as {', '.join(USERS)} through the real forms; "
        f"secure p50/p95/p99 {s.p50:.0f}/{s.p95:.0f}/{s.p99:.0f} ms, "
        f"plain {p.p50:.0f}/{p.p95:.0f}/{p.p99:.0f} ms; "
        f"{s.requests} and {p.requests} requests"
    )
    out = [
        Result.compared(
            "7 server",
            f"case page requests/s, gunicorn 2 workers, {who}",
            s.rps,
            "req/s",
            base,
            p.rps,
            goal="ratio >= 0.75",
            met=lambda v, r: r >= 0.75,
            note=note,
            floor=floor,
            floor_value=p.rps,
            higher_is_better=True,
            secure=asdict(s),
            plain=asdict(p),
        )
    ]
    for q in ("p50", "p95", "p99"):
        goal = {"goal": "ratio <= 1.5", "met": lambda v, r: r <= 1.5} if q == "p99" else {}
        out.append(
            Result.compared(
                "7 server",
                f"case page {q}, {who}",
                getattr(s, q),
                "ms",
                base,
                getattr(p, q),
                floor=floor,
                floor_value=getattr(p, q),
                **goal,  # type: ignore[arg-type]
            )
        )
    return out


def server(
    env: Env,
    seconds: int = 30,
    clients: int = 16,
    slices: int = 3,
    client_counts: tuple[int, ...] = (4,),
) -> list[Result]:
    """The secure and no-security servers at each of `client_counts` and then `clients` threads,
    `seconds` of load each side per client count."""
    path = f"/cases/{env.case_id}"
    extra = {"BENCH_CASE_ID": str(env.case_id)}
    counts = sorted({*client_counts, clients})
    sides: dict[int, tuple[Side, Side]] = {}
    with (
        gunicorn(env, "wsgi:app") as secure_base,
        gunicorn(env, "benchmarks.plain_app:app", extra=extra) as plain_base,
    ):
        sessions = [sign_in(secure_base, u) for u in USERS]
        for n in counts:
            sides[n] = _compare(secure_base, plain_base, path, sessions, n, seconds, slices)
    out: list[Result] = []
    for n in counts:
        out += _figures(n, *sides[n], seconds, slices)
    return [*out, _errors(sides)]


def _errors(sides: dict[int, tuple[Side, Side]]) -> Result:
    first = next((x.first_error for pair in sides.values() for x in pair if x.errors), "")
    return Result(
        "7 server",
        "errors (secure / no-security)",
        float(sum(s.errors for s, _ in sides.values())),
        "requests",
        goal="== 0",
        met=all(s.errors == 0 and p.errors == 0 for s, p in sides.values()),
        note="; ".join(
            f"{n} clients: secure {s.errors} of {s.requests}, plain {p.errors} of {p.requests}"
            for n, (s, p) in sides.items()
        )
        + (f"; first: {first}" if first else ""),
    )
