"""Real processes for the fault tests: gunicorn serving the app, and `flask` commands, each with
the instance's environment (database, keys), on loopback only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def instance_env(db_url: str, keys_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAREPLATFORM_")}
    env.update(
        DATABASE_URL=db_url,
        SHAREPLATFORM_KEYS_DIR=str(keys_dir),
        # each instance its own witness (the default for PostgreSQL is the shared instance folder)
        SHAREPLATFORM_AUDIT_WITNESS=str(keys_dir.parent / "audit-witness.jsonl"),
        # processes notice rotations quickly, and a stopped one's report expires soon
        SHAREPLATFORM_KEY_WATCH_SECONDS="0.5",
        SHAREPLATFORM_KEY_WATCH_TTL_SECONDS="6",
        SHAREPLATFORM_API_RATE_LIMIT="100000",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def flask(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run `flask --app wsgi ARGS` in its own process; returns it (a SIGKILL shows as -9)."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Gunicorn:
    """`gunicorn wsgi:app` with a number of workers on a free loopback port."""

    env: dict[str, str]
    workers: int = 2
    log: Path | None = None
    port: int = field(default_factory=free_port)
    # its own process group, so `kill` takes the workers down with the master (a crashed host)
    own_group: bool = False
    proc: subprocess.Popen[bytes] | None = None
    _out: object = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_timeout: float = 60) -> Gunicorn:
        return self.spawn().wait_ready(ready_timeout)

    def spawn(self) -> Gunicorn:
        """Start the process without waiting for it (several nodes boot in parallel)."""
        out = self._out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "10",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=out,
            start_new_session=self.own_group,
        )
        return self

    def wait_ready(self, ready_timeout: float = 60) -> Gunicorn:
        assert self.proc is not None, "spawn first"
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            try:
                if requests.get(self.url + "/api/v1/openapi.json", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not become ready; see {self.log}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._sigkill()
                self.proc.wait(timeout=10)
        self._closed()

    def kill(self) -> None:
        """SIGKILL the master and, with `own_group`, every worker at once: nothing shuts down
        cleanly and the port stops answering, as when the node's host dies."""
        if self.proc is None:
            return
        self._sigkill()
        self.proc.wait(timeout=10)
        self._closed()

    def _sigkill(self) -> None:
        assert self.proc is not None
        if self.own_group:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            self.proc.kill()

    def _closed(self) -> None:
        self.proc = None
        if hasattr(self._out, "close"):
            self._out.close()  # type: ignore[union-attr]
        self._out = None

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
