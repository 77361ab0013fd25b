"""A throwaway PgBouncer in transaction mode in front of a tests/support PostgresServer.

    with PostgresServer() as pg, PgBouncer(pg) as bouncer:
        url = bouncer.url(pg.dbname)     # postgresql+psycopg://shareplatform@127.0.0.1:PORT/DB

It listens on 127.0.0.1 only (no Unix socket), trusts the login role as the server does, and
keeps a small pool so that consecutive transactions of one client land on different server
connections. PgBouncer refuses to run as root, so as root it runs as the server's user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.postgres import LOGIN_ROLE, PostgresServer, _free_port, _run_as_user

BINARY = "/usr/sbin/pgbouncer"


def available() -> bool:
    return os.access(BINARY, os.X_OK) or shutil.which("pgbouncer") is not None


def version() -> str:
    out = subprocess.run([_binary(), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def _binary() -> str:
    return BINARY if os.access(BINARY, os.X_OK) else str(shutil.which("pgbouncer"))


class PgBouncer:
    """pgbouncer -> `server`, pool_mode=transaction; see the module docstring."""

    def __init__(self, server: PostgresServer, *, pool_size: int = 3) -> None:
        self.server = server
        self.pool_size = pool_size
        self.port = _free_port()
        self.tmpdir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{LOGIN_ROLE}@127.0.0.1:{self.port}/{dbname}"

    def start(self, timeout: float = 20.0) -> PgBouncer:
        self.tmpdir = Path(tempfile.mkdtemp(prefix="sp-pgb-"))
        ini = self._write_config(self.tmpdir)
        pw = _run_as_user()
        kwargs: dict = {}
        if pw is not None:
            for path in (self.tmpdir, *self.tmpdir.iterdir()):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        self.proc = subprocess.Popen(
            [_binary(), str(ini)],
            cwd=self.tmpdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **kwargs,
        )
        self._wait_listening(timeout)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def log(self) -> str:
        path = self.tmpdir / "pgbouncer.log" if self.tmpdir else None
        return path.read_text() if path and path.exists() else ""

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _write_config(self, folder: Path) -> Path:
        (folder / "users.txt").write_text(f'"{LOGIN_ROLE}" ""\n')
        ini = folder / "pgbouncer.ini"
        ini.write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={self.server.host} port={self.server.port}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {folder / 'users.txt'}",
                    "pool_mode = transaction",
                    f"default_pool_size = {self.pool_size}",
                    "max_client_conn = 200",
                    f"logfile = {folder / 'pgbouncer.log'}",
                    f"pidfile = {folder / 'pgbouncer.pid'}",
                    "",
                ]
            )
        )
        return ini

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("pgbouncer did not start listening")
