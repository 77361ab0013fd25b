"""A throwaway PostgreSQL server for the tests.

`PostgresServer` runs initdb into a temporary folder, starts the server on a free port bound to
127.0.0.1 only (plus a Unix socket inside the temporary folder), creates a login role and a
database, and removes everything again on `stop()` / context exit (and at interpreter exit as a
safety net). Durability is switched off for speed: the data is thrown away anyway.

    with PostgresServer() as pg:
        engine = sqlalchemy.create_engine(pg.url)       # postgresql+psycopg://...
        other_url = pg.create_database("second")

A primary with a synchronous streaming standby (for failover tests):

    with PostgresServer(replicated=True) as primary, primary.standby() as standby:
        primary.require_synchronous()       # commits now wait for the standby
        primary.crash()                     # pg_ctl stop -m immediate, data kept
        standby.promote()                   # the standby takes writes

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
import shlex
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

    def __init__(
        self,
        dbname: str = DEFAULT_DB,
        *,
        start_timeout: float = 60.0,
        replicated: bool = False,
        primary: PostgresServer | None = None,
    ) -> None:
        self.dbname = dbname
        self.start_timeout = start_timeout
        # a replicated primary or a standby commits durably (to the standby when it is
        # synchronous); a standalone server skips that for speed
        self.replicated = replicated or primary is not None
        self.primary = primary  # set: this server is a streaming standby of that one
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
            if self.primary is None:  # a standby has the primary's roles and databases
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

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create another database owned by the login role, empty or a copy of `template` (a
        database nobody is connected to); return its SQLAlchemy URL."""
        _check_ident(name)
        copy = ""
        if template is not None:
            _check_ident(template)
            copy = f' TEMPLATE "{template}"'
        self._sql(f'CREATE DATABASE "{name}" OWNER "{LOGIN_ROLE}"{copy}')
        return self._url(self.user, name)

    def drop_database(self, name: str) -> None:
        _check_ident(name)
        self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # ---- replication ------------------------------------------------------------------------

    def standby(self) -> PostgresServer:
        """A new streaming standby of this (replicated) server, from pg_basebackup -R; started."""
        assert self.replicated and self._running, "start a PostgresServer(replicated=True) first"
        return PostgresServer(self.dbname, start_timeout=self.start_timeout, primary=self).start()

    def require_synchronous(self, timeout: float = 30.0) -> None:
        """Make every commit wait until a standby has it (synchronous_standby_names), and wait
        until a standby streams synchronously."""
        self._sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        self._sql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + timeout
        while self._query("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")[
            0
        ] == (0,):
            if time.monotonic() > deadline:
                raise RuntimeError("no standby became synchronous")
            time.sleep(0.1)

    def crash(self) -> None:
        """Stop at once, as a crash would (pg_ctl stop -m immediate); the data stays."""
        assert self.tmpdir is not None
        self._pg(["pg_ctl", "-D", str(self.tmpdir / "data"), "-m", "immediate", "-w", "stop"])
        self._running = False

    def promote(self) -> None:
        """Turn this standby into a primary (pg_ctl promote), waiting until it takes writes."""
        assert self.tmpdir is not None
        self._pg(["pg_ctl", "-D", str(self.tmpdir / "data"), "-w", "-t", "60", "promote"])

    def in_recovery(self) -> bool:
        return bool(self._query("SELECT pg_is_in_recovery()")[0][0])

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- stopped and started again on the same port (outage tests) -------------------------

    def halt(self, mode: str = "fast") -> None:
        """Stop the server process only (pg_ctl stop -m fast|immediate): data and port are
        kept for `resume()`, and `stop()` still removes everything."""
        assert self.tmpdir is not None, "server not started"
        self._pg(["pg_ctl", "-D", str(self.tmpdir / "data"), "-m", mode, "-w", "-t", "30", "stop"])

    def resume(self) -> None:
        """Start a halted server again with the options it last ran with (postmaster.opts:
        same port, socket and settings); returns once it accepts connections."""
        assert self.tmpdir is not None, "server not started"
        data = self.tmpdir / "data"
        argv = shlex.split((data / "postmaster.opts").read_text())[1:]  # without the binary
        if "-D" in argv:  # pg_ctl passes the data folder itself
            at = argv.index("-D")
            del argv[at : at + 2]
        log = self.tmpdir / "server.log"
        timeout = str(int(self.start_timeout))
        self._pg(
            ["pg_ctl", "-D", str(data), "-l", str(log), "-o", shlex.join(argv)]
            + ["-w", "-t", timeout, "start"]
        )

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
        if self.primary is not None:
            self._base_backup(self.primary)
            return
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

    def _base_backup(self, primary: PostgresServer) -> None:
        """Copy the primary; -R writes standby.signal and primary_conninfo (loopback)."""
        assert self.tmpdir is not None and primary.port is not None
        self._pg(
            [
                "pg_basebackup",
                "-D",
                str(self.tmpdir / "data"),
                "-h",
                primary.host,
                "-p",
                str(primary.port),
                "-U",
                SUPERUSER,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
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
                    "-c fsync=off -c full_page_writes=off",
                    self._durability(),
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

    def _durability(self) -> str:
        if not self.replicated:
            return "-c synchronous_commit=off"
        # commits wait for a synchronous standby once require_synchronous() names one
        return "-c wal_level=replica -c max_wal_senders=10 -c hot_standby=on"

    def _query(self, statement: str) -> list[tuple[object, ...]]:
        """Rows of one read-only statement, as the superuser."""
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            return conn.execute(statement).fetchall()  # type: ignore[arg-type]

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
