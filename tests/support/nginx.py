"""A throwaway nginx for the tests: its configuration, pid file, logs and temporary folders all
inside one folder, run in the foreground (`-g 'daemon off;'`) so the test owns the process.

    proxy = Nginx(tmp_path / "nginx", http_body, ports=[8443]).start()
    ...
    proxy.stop()

`http_body` is what goes inside `http { }` (upstreams and servers); everything that would
otherwise point at /var or /etc is set here to a path under the folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

NGINX = Path("/usr/sbin/nginx")  # scripts/ensure-system-deps.sh installs it (nginx-light)
_TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def available() -> bool:
    return os.access(NGINX, os.X_OK)


def _config(prefix: Path, http_body: str) -> str:
    temp = "\n".join(f"    {kind}_temp_path {prefix / 'temp' / kind};" for kind in _TEMP_KINDS)
    # as root the workers would otherwise run as `nobody`, who cannot enter pytest's 0700 folders
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\n"
        f"pid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {prefix / 'access.log'};\n"
        f"{temp}\n"
        f"{http_body}\n"
        "}\n"
    )


@dataclass
class Nginx:
    """nginx serving `http_body` from `prefix`; ready once each of `ports` accepts on `host`."""

    prefix: Path
    http_body: str
    ports: list[int]
    host: str = "127.0.0.1"
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def start(self, ready_timeout: float = 20) -> Nginx:
        for kind in _TEMP_KINDS:
            (self.prefix / "temp" / kind).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(_config(self.prefix, self.http_body))
        self._check()
        with open(self.prefix / "stderr.log", "ab") as out:
            self.proc = subprocess.Popen(
                [*self._argv(), "-g", "daemon off;"], stdout=out, stderr=out
            )
        deadline = time.monotonic() + ready_timeout
        while not all(self._accepts(port) for port in self.ports):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not start: {self._log_tail()}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Fast shutdown (TERM), then KILL if it lingers. Safe to call more than once."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _argv(self) -> list[str]:
        # -e: the log for errors met before the configuration is read (default under /var/log)
        return [str(NGINX), "-p", str(self.prefix), "-c", str(self.conf), "-e", str(self.error_log)]

    def _check(self) -> None:
        """`nginx -t` first: a bad configuration fails with nginx's own message."""
        test = subprocess.run(
            [*self._argv(), "-t"], capture_output=True, text=True, timeout=30, check=False
        )
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t refused {self.conf}:\n{test.stderr}")

    def _accepts(self, port: int) -> bool:
        try:
            with socket.create_connection((self.host, port), timeout=0.5):
                return True
        except OSError:
            return False

    def _log_tail(self) -> str:
        logs = [self.prefix / "stderr.log", self.error_log]
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in logs if p.exists())
