"""A throwaway PostgreSQL server for the tests.

`PostgresServer` runs initdb into a temporary folder, starts the server on a free port bound to
127.0.0.1 only (plus a Unix socket inside the temporary folder), creates a login role and a
database, and removes everything again on `stop()` / context exit (and at interpreter exit as a
safety net). Durability is switched off for speed: the data is thrown away anyway.

    with PostgresServer() as pg:
        engine = sqlalchemy.create_engine(pg.url)       # postgresql+psycopg://...
        other_url = pg.create_database("second")

initdb and postgres refuse to run as root ("initdb: error: cannot be run as root"), and CI runs
as root, so as root both run as an unprivileged user: Debian's `postgres` system user, or a
dedicated system user created on first use when there is none.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["PostgresServer", "PostgresUnavailable", "available", "find_bindir"]

# Where the Debian packages put the server binaries; the highest version wins.
_DEBIAN_GLOB = "/usr/lib/postgresql/*/bin"
# Unprivileged users to run the server as when we are root, in order of preference.
_RUN_AS_EXISTING = "postgres"
_RUN_AS_CREATED = "shareplatform-pg"

SUPERUSER = "postgres"  # bootstrap superuser of the throwaway cluster
LOGIN_ROLE = "shareplatform"  # the role tests connect as: owns the databases, not a superuser
DEFAULT_DB = "shareplatform_test"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries were found (or they cannot be run)."""


def _version_key(bindir: str) -> tuple[int, ...]:
    m = re.search(r"/postgresql/([0-9.]+)/bin$", bindir)
    return tuple(int(p) for p in m.group(1).split(".")) if m else (0,)


def find_bindir() -> Path | None:
    """Folder holding initdb and pg_ctl: $SHAREPLATFORM_PG_BINDIR, Debian's, or on PATH."""
    override = os.environ.get("SHAREPLATFORM_PG_BINDIR")
    candidates = [override] if override else []
    candidates += sorted(glob.glob(_DEBIAN_GLOB), key=_version_key, reverse=True)
    for cand in candidates:
        if os.access(os.path.join(cand, "initdb"), os.X_OK) and os.access(
            os.path.join(cand, "pg_ctl"), os.X_OK
        ):
            return Path(cand)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    return None


def available() -> bool:
    """True if a server can be started here (binaries present, and a user to run them as)."""
    if find_bindir() is None:
        return False
    if os.geteuid() != 0:
        return True
    return (
        _user_exists(_RUN_AS_EXISTING)
        or _user_exists(_RUN_AS_CREATED)
        or bool(shutil.which("useradd"))
    )


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _run_as_user() -> pwd.struct_passwd | None:
    """The account the server runs as: None means 'as ourselves' (we are not root)."""
    if os.geteuid() != 0:
        return None
    for name in (_RUN_AS_EXISTING, _RUN_AS_CREATED):
        if _user_exists(name):
            return pwd.getpwnam(name)
    subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            _RUN_AS_CREATED,
        ],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(_RUN_AS_CREATED)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A private PostgreSQL cluster in a temporary folder; see the module docstring."""

    def __init__(self, dbname: str = DEFAULT_DB, *, start_timeout: float = 60.0) -> None:
        self.dbname = dbname
        self.start_timeout = start_timeout
        self.host = "127.0.0.1"
        self.port: int | None = None
        self.user = LOGIN_ROLE
        self.tmpdir: Path | None = None
        self._bindir: Path | None = None
        self._pw: pwd.struct_passwd | None = None
        self._running = False

    # ---- public API -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the default database, as the (non-superuser) login role."""
        return self._url(self.user, self.dbname)

    @property
    def superuser_url(self) -> str:
        """SQLAlchemy URL as the cluster's superuser (for tests that need one)."""
        return self._url(SUPERUSER, "postgres")

    @property
    def socket_dir(self) -> Path:
        assert self.tmpdir is not None, "server not started"
        return self.tmpdir / "socket"

    def start(self) -> PostgresServer:
        if self._running:
            return self
        self._bindir = find_bindir()
        if self._bindir is None:
            raise PostgresUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl) not found; run `make system-deps`"
            )
        self._pw = _run_as_user()
        atexit.register(self.stop)
        try:
            self._init_cluster()
            self._start_server()
            self._running = True
            self._sql(f'CREATE ROLE "{LOGIN_ROLE}" LOGIN CREATEDB')
            self.create_database(self.dbname)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (if it runs) and delete its folder. Safe to call more than once."""
        tmpdir = self.tmpdir
        if tmpdir is None:
            return
        data = tmpdir / "data"
        try:
            if self._bindir is not None and (data / "postmaster.pid").exists():
                # Immediate shutdown: no checkpoint, the data is being deleted anyway.
                self._pg(
                    ["pg_ctl", "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop"],
                    check=False,
                )
        finally:
            self._running = False
            self.tmpdir = None
            shutil.rmtree(tmpdir, ignore_errors=True)
            atexit.unregister(self.stop)

    def create_database(self, name: str) -> str:
        """Create another database owned by the login role; return its SQLAlchemy URL."""
        _check_ident(name)
        self._sql(f'CREATE DATABASE "{name}" OWNER "{LOGIN_ROLE}"')
        return self._url(self.user, name)

    def drop_database(self, name: str) -> None:
        _check_ident(name)
        self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- internals --------------------------------------------------------------------------

    def _url(self, user: str, dbname: str) -> str:
        assert self.port is not None, "server not started"
        return f"postgresql+psycopg://{user}@{self.host}:{self.port}/{dbname}"

    def _pg(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a server binary, as the unprivileged user when we are root."""
        assert self._bindir is not None and self.tmpdir is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(HOME=str(self.tmpdir), LC_ALL="C.UTF-8", LANG="C.UTF-8")
        kwargs: dict = {}
        if self._pw is not None:
            kwargs = {"user": self._pw.pw_uid, "group": self._pw.pw_gid, "extra_groups": []}
        proc = subprocess.run(
            [str(self._bindir / argv[0]), *argv[1:]],
            cwd=self.tmpdir,  # the server user may not be allowed into our cwd
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            **kwargs,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{argv[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def _init_cluster(self) -> None:
        base = os.environ.get("SHAREPLATFORM_PG_TMPDIR")  # must be reachable by the server user
        self.tmpdir = Path(tempfile.mkdtemp(prefix="sp-pg-", dir=base))
        (self.tmpdir / "socket").mkdir()
        if self._pw is not None:
            for p in (self.tmpdir, self.tmpdir / "socket"):
                os.chown(p, self._pw.pw_uid, self._pw.pw_gid)
        # --no-sync: skip fsync of the new cluster; trust auth: password-less local log-ins
        # (the server only listens on 127.0.0.1 and a socket inside our private folder).
        self._pg(
            [
                "initdb",
                "-D",
                str(self.tmpdir / "data"),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ]
        )

    def _start_server(self) -> None:
        assert self.tmpdir is not None
        data, log = self.tmpdir / "data", self.tmpdir / "server.log"
        last_error = ""
        for _attempt in range(3):  # the free port can be taken between probe and bind: retry
            self.port = _free_port()
            opts = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-p {self.port}",
                    f"-c unix_socket_directories={self.socket_dir}",
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                    "-c max_connections=100",
                ]
            )
            proc = self._pg(
                [
                    "pg_ctl",
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    str(int(self.start_timeout)),
                    "start",
                ],
                check=False,
            )
            if proc.returncode == 0:
                return
            last_error = proc.stdout + proc.stderr + (log.read_text() if log.exists() else "")
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not start:\n{last_error}")

    def _sql(self, statement: str) -> None:
        """Run one statement as the superuser, outside a transaction (CREATE DATABASE)."""
        import psycopg  # imported late: available() must work without psycopg installed

        with psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(statement)  # type: ignore[arg-type]  # built from checked identifiers


def _check_ident(name: str) -> None:
    # Names end up inside double quotes in SQL: keep them to plain identifiers.
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")
