"""Liveness and readiness, for load balancers and orchestrators.

    /healthz   the process is up: 200, touching no database
    /readyz    200 when the database answers, migrations are at head, the keys are usable and the
               policy is loaded; else 503

Both are public (shareplatform/web/permissions.py) and say only up or down: the failing check's
name goes to the log, never into the body. Neither opens the request's unit of work nor writes
an audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

from alembic.runtime.migration import MigrationContext
from flask import Flask, Response, jsonify
from sqlalchemy import Connection, text

from ..migrate import heads
from ..web import platform
from ..web.errors import first_line
from ..web.permissions import public

log = logging.getLogger(__name__)

STATEMENT_TIMEOUT_MS = 2000  # PostgreSQL: a readiness probe must not hang on a stuck database


@cache
def _script_heads() -> frozenset[str]:
    return frozenset(heads())


def _database(conn: Connection) -> bool:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
    return conn.execute(text("SELECT 1")).scalar() == 1


def _migrations(conn: Connection) -> bool:
    return frozenset(MigrationContext.configure(conn).get_current_heads()) == _script_heads()


def _keys(conn: Connection) -> bool:
    running = platform()
    with running.db.sessions(bind=conn) as session:
        return running.keys_ready(session)


def _policy(conn: Connection) -> bool:
    running = platform()
    with running.db.sessions(bind=conn) as session:
        engine = running.access.engine(session)
    return engine.version > 0 and bool(engine.rules)


CHECKS: dict[str, Callable[[Connection], bool]] = {
    "database": _database,
    "migrations": _migrations,
    "keys": _keys,
    "policy": _policy,
}


def failing_check() -> str | None:
    """The name of the first check that fails, or None when all pass (on one connection)."""
    name = "database"
    try:
        # closing the connection rolls its transaction back: nothing here writes
        with platform().db.engine.connect() as conn:
            for name, check in CHECKS.items():
                if not check(conn):
                    return name
    except Exception as exc:  # one line per probe during an outage, not a traceback
        log.warning("readiness check %s raised %s: %s", name, type(exc).__name__, first_line(exc))
        return name
    return None


@public
def healthz() -> Response:
    return jsonify(status="ok")


@public
def readyz() -> tuple[Response, int]:
    failing = failing_check()
    if failing is None:
        return jsonify(status="ok"), 200
    log.warning("not ready: check %s failed", failing)
    return jsonify(status="unready"), 503


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
