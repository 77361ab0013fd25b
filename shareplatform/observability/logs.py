"""Structured logs and the request id.

`SHAREPLATFORM_LOG_FORMAT=json` (the default when SHAREPLATFORM_PRODUCTION=1) writes one JSON
object per line: time, level, logger, message, request id, user id, route (the endpoint, never
the path: a query string may hold search terms) and method. Every log record carries those
fields whatever the format, through the record factory below, so any handler can use them.

Log only ids, never titles, bodies or names: tests/security/test_no_content_in_logs.py checks.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_OURS = "_shareplatform_handler"  # marks the handler this module installed, to replace it
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
CONTEXT_FIELDS = ("request_id", "user_id", "route", "method")

request_log = logging.getLogger("shareplatform.request")


# -- the request id -------------------------------------------------------------------------------
def request_id() -> str:
    """This request's id: a valid incoming X-Request-Id, else a new one (made on first use, so
    log lines written before any hook of ours ran still carry it)."""
    rid = g.get("request_id")
    if rid is None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        g.request_id = rid
    return str(rid)


def _user_id() -> str | None:
    who = g.get("principal")
    return str(who.user_id) if who is not None else None


def context() -> dict[str, str | None]:
    """The request fields of a log line (all None outside a request)."""
    if not has_request_context():
        return dict.fromkeys(CONTEXT_FIELDS)
    return {
        "request_id": request_id(),
        "user_id": _user_id(),
        "route": request.endpoint,
        "method": request.method,
    }


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, _OURS, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        for name, value in context().items():
            setattr(record, name, value)
        return record

    setattr(factory, _OURS, True)
    logging.setLogRecordFactory(factory)


# -- formats --------------------------------------------------------------------------------------
class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def log_format(production: bool) -> str:
    """'json' or 'text': SHAREPLATFORM_LOG_FORMAT, else json in production and text elsewhere."""
    chosen = os.environ.get("SHAREPLATFORM_LOG_FORMAT", "").strip().lower()
    if chosen in ("json", "text"):
        return chosen
    return "json" if production else "text"


def configure(production: bool) -> None:
    """Install (or replace) this module's handler on the root logger. Text in development only
    when nothing else handles the root logger (a test runner, a host's own configuration)."""
    _install_record_factory()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
    fmt = log_format(production)
    if fmt == "text" and root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    setattr(handler, _OURS, True)
    root.addHandler(handler)
    level = os.environ.get("SHAREPLATFORM_LOG_LEVEL", "INFO").upper()
    root.setLevel(logging.getLevelName(level) if level in logging.getLevelNamesMapping() else 20)


# -- per request ----------------------------------------------------------------------------------
def _started() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finished(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    started = g.get("request_started")
    elapsed_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    # the endpoint and status only: the path and query may carry what a user searched for
    request_log.info(
        "%s %s -> %d in %.1f ms",
        request.method,
        request.endpoint or "-",
        response.status_code,
        elapsed_ms,
    )
    return response


def init_app(app: Flask, production: bool) -> None:
    configure(production)
    # first before every other hook, last after every other (after_request runs in reverse), so
    # the id and the timing cover identification and the commit, and any replaced response
    app.before_request_funcs.setdefault(None, []).insert(0, _started)
    app.after_request_funcs.setdefault(None, []).insert(0, _finished)
