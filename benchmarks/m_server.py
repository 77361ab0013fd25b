"""Measure 7: gunicorn (2 workers), 16 concurrent signed-in clients on the case page, against the
same page from plaintext rows with no security (benchmarks.plain_app), alternating in slices."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn {app} exited: {proc.stderr.read() if proc.stderr else ''}"
                )
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


def server(env: Env, seconds: int = 30, clients: int = 16, slices: int = 3) -> list[Result]:
    path = f"/cases/{env.case_id}"
    extra = {"BENCH_CASE_ID": str(env.case_id)}
    with (
        gunicorn(env, "wsgi:app") as secure_base,
        gunicorn(env, "benchmarks.plain_app:app", extra=extra) as plain_base,
    ):
        sessions = [sign_in(secure_base, u) for u in USERS]
        stats = {"secure": ([], [], [0.0]), "plain": ([], [], [0.0])}  # latencies, errors, elapsed
        for k in range(slices * 2):
            which = ("secure", "plain")[(k + k // 2) % 2]  # secure, plain, plain, secure, ...
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
    out = []
    for which in ("secure", "plain"):
        lat, errs, elapsed = stats[which]
        out.append(
            {
                "rps": len(lat) / elapsed[0],
                "p50": percentile(lat, 50) * 1000,
                "p95": percentile(lat, 95) * 1000,
                "p99": percentile(lat, 99) * 1000,
                "errors": len(errs),
                "n": len(lat),
                "first_error": errs[0] if errs else "",
            }
        )
    s, p = out
    note = (
        f"{clients} client threads on the same 2 cores, {seconds} s each side "
        f"in {slices} alternating slices; "
        f"signed in as {', '.join(USERS)} through the real forms; secure p50/p95/p99 "
        f"{s['p50']:.0f}/{s['p95']:.0f}/{s['p99']:.0f} ms, "
        f"plain {p['p50']:.0f}/{p['p95']:.0f}/{p['p99']:.0f} ms"
    )
    return [
        Result.compared(
            "7 server",
            "case page requests/s, gunicorn 2 workers",
            s["rps"],
            "req/s",
            "no-security page",
            p["rps"],
            note=note,
        ),
        Result.compared("7 server", "case page p50", s["p50"], "ms", "no-security page", p["p50"]),
        Result.compared("7 server", "case page p95", s["p95"], "ms", "no-security page", p["p95"]),
        Result.compared("7 server", "case page p99", s["p99"], "ms", "no-security page", p["p99"]),
        Result(
            "7 server",
            "errors (secure / no-security)",
            float(s["errors"]),
            "requests",
            goal="== 0",
            met=s["errors"] == 0 and p["errors"] == 0,
            note=f"secure {s['errors']} of {s['n']}, plain {p['errors']} of {p['n']}"
            + (
                f"; first: {s['first_error'] or p['first_error']}"
                if s["errors"] or p["errors"]
                else ""
            ),
        ),
    ]
