"""Prometheus metrics: request latency, access decisions, integrity failures.

- request latency: a histogram by route (the endpoint) and status class;
- access decisions: audit entries by outcome (allow, deny, fail, done), counted as the audit log
  writes them (shareplatform/audit/log.py writes its block with one driver-level INSERT; an engine
  event sees it without changing the log) and added only when the transaction commits;
- integrity failures: ERROR records of the `shareplatform.integrity` logger.

With PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it for its workers) prometheus_client
keeps the values in files there and /metrics adds up every worker; otherwise the default registry
of this process.

/metrics answers only a bearer of SHAREPLATFORM_METRICS_TOKEN: 404 while the token is unset,
401 without it.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event

from ..audit.models import AuditEntry
from ..config import env_secret
from ..web.permissions import public

TOKEN_SETTING = "SHAREPLATFORM_METRICS_TOKEN"  # noqa: S105 (the setting's name)
OUTCOMES = frozenset({"allow", "deny", "fail", "done"})
_AUDIT_INSERT = re.compile(rf"\s*INSERT INTO {AuditEntry.__tablename__} \(([^)]*)\)", re.IGNORECASE)
_PENDING = "shareplatform_metrics_outcomes"
_OURS = "_shareplatform_metrics"

REQUEST_SECONDS = Histogram(
    "shareplatform_request_duration_seconds",
    "Time to answer a request, by route (endpoint) and status class.",
    ["route", "status"],
)
ACCESS_DECISIONS = Counter(
    "shareplatform_access_decisions_total",
    "Audit entries committed, by outcome (allow and deny are access decisions).",
    ["outcome"],
)
INTEGRITY_FAILURES = Counter(
    "shareplatform_integrity_failures_total",
    "Integrity failures reported on the shareplatform.integrity logger.",
)


# -- request latency ------------------------------------------------------------------------------
def _started() -> None:
    g.metrics_started = time.perf_counter()


def _finished(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is not None:
        REQUEST_SECONDS.labels(
            request.endpoint or "unmatched", f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
    return response


# -- access decisions, from the audit log's writes ------------------------------------------------
_outcome_columns: dict[str, int | None] = {}


def _outcome_column(statement: str) -> int | None:
    """Where `outcome` sits in an audit INSERT's parameters (None: not an audit INSERT)."""
    if statement not in _outcome_columns:
        match = _AUDIT_INSERT.match(statement)
        columns = [c.strip() for c in match.group(1).split(",")] if match else []
        _outcome_columns[statement] = columns.index("outcome") if "outcome" in columns else None
    return _outcome_columns[statement]


def _after_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if statement.lstrip()[:6].upper() != "INSERT":
        return
    column = _outcome_column(statement)
    if column is None:
        return
    rows = parameters if executemany else [parameters]
    pending: list[str] = conn.info.setdefault(_PENDING, [])
    pending += [str(row[column]) for row in rows]


def _committed(conn: Any) -> None:
    for outcome in conn.info.pop(_PENDING, ()):
        ACCESS_DECISIONS.labels(outcome if outcome in OUTCOMES else "other").inc()


def _rolled_back(conn: Any) -> None:
    # A connection lost mid-commit (database stopped) is invalidated: its info cannot be read,
    # and raising here would turn the outage's 503 into a 500. Nothing is pending on it anyway.
    if conn.invalidated:
        return
    conn.info.pop(_PENDING, None)


def watch_audit(engine: Engine) -> None:
    if getattr(engine, _OURS, False):
        return
    event.listen(engine, "after_cursor_execute", _after_execute)
    event.listen(engine, "commit", _committed)
    event.listen(engine, "rollback", _rolled_back)
    setattr(engine, _OURS, True)


# -- integrity failures ---------------------------------------------------------------------------
class IntegrityCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        INTEGRITY_FAILURES.inc()


def watch_integrity() -> None:
    logger = logging.getLogger("shareplatform.integrity")
    if not any(isinstance(h, IntegrityCounter) for h in logger.handlers):
        logger.addHandler(IntegrityCounter())


# -- exposition -----------------------------------------------------------------------------------
def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def _bearer_matches(expected: str) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), expected.encode())


@public  # a bearer of the metrics token, checked here: scrapers do not sign in
def metrics() -> Response:
    expected = current_app.config.get(TOKEN_SETTING) or env_secret(TOKEN_SETTING)
    if not expected:
        return Response("Not Found\n", status=404, mimetype="text/plain")
    if not _bearer_matches(str(expected)):
        return Response(
            "Unauthorized\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    watch_audit(app.extensions["shareplatform"].db.engine)
    watch_integrity()
    app.before_request_funcs.setdefault(None, []).insert(0, _started)
    app.after_request_funcs.setdefault(None, []).insert(0, _finished)
    app.add_url_rule("/metrics", "metrics", metrics)
