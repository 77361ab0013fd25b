"""Domain exceptions and HTTP errors become GOV.UK error pages here, and only here. No traces.

(The JSON API answers problem+json instead: shareplatform/web/api.py.) A refusal keeps the audit
entries the request wrote (the unit of work commits them, shareplatform/web/request.py); invalid
input and crashes roll back whatever the request wrote. A database that cannot be reached is a
503 with Retry-After on both faces, logged in one line per request.
"""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, Response, g, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from ..domain.errors import Conflict, IntegrityFailure, InvalidValue, NotFound, NotPermitted
from .rendering import render, rollback

log = logging.getLogger(__name__)

TITLES = {
    400: "There is a problem with your request",
    401: "You need to sign in",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "This action is not available here",
    409: "This cannot be done now",
    413: "What you sent is too large",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}


def error_page(status: int, message: str = "", title: str = "") -> tuple[str, int]:
    return render(
        "errors/error.html",
        status=status,
        code=status,
        title=title or TITLES.get(status, "Sorry, there is a problem"),
        message=message,
    )


def _keep_audit() -> None:
    """Denials were audited in this request's transaction: the unit of work commits those
    entries. Services decide before they write, so nothing else is pending when a denial is
    raised."""


def unavailable() -> Response:
    """When the request's work could not be committed: nothing it rendered may be sent."""
    from .request import is_api

    if is_api():
        from .problems import problem

        return problem(
            503,
            "Service Unavailable",
            "The service could not save your request; nothing was changed. Try again shortly.",
            slug="unavailable",
            headers={"Retry-After": "5"},
        )
    body, status = error_page(503)
    return Response(body, status=status, headers={"Retry-After": "5"})


def is_outage(exc: BaseException) -> bool:
    """The database could not be reached (stopped, restarting, its file unusable) or gave no
    connection in time: nothing wrong with the request itself."""
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


def database_outage(exc: Exception) -> Response:
    """One log line per failed request (an outage fails every request: no tracebacks), then
    503 with Retry-After; the pool checks connections before use, so service resumes as soon as
    the database is back (shareplatform/db.py)."""
    log.error("database unavailable: %s: %s", type(exc).__name__, first_line(exc))
    with contextlib.suppress(sa_exc.SQLAlchemyError):  # the connection is gone: nothing to undo
        rollback()
    g.principal = None  # the page must not build a navigation (it asks the database)
    return unavailable()


def first_line(exc: BaseException) -> str:
    """An exception's first line (the driver's, for a database error): one log line per failure,
    never a traceback."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else ""


def _refuse_unstorable_form() -> tuple[str, int] | None:
    """A NUL or a lone surrogate in a form field cannot be stored (PostgreSQL refuses NUL in
    text; UTF-8 has no surrogates): a 400 page, before any view or service sees the value."""
    if request.path.startswith("/api/") or request.mimetype not in _FORM_TYPES:
        return None
    from .api import unstorable

    for name, value in request.form.items(multi=True):
        if unstorable(name) or unstorable(value):
            return error_page(
                400,
                "The form contained a character this service cannot accept. Go back, remove it "
                "and try again.",
            )
    return None


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def integrity_failure(exc: IntegrityFailure) -> Response | tuple[str, int]:
    """One object failed its integrity check: withheld, audited, alerted; the rest works."""
    log.error("integrity failure answered: %s %s", exc.what, exc.object_id)
    rollback()  # the request's work does not stand; its failure is recorded on its own
    from ..audit.log import Event
    from . import platform
    from .request import is_api, principal

    who = principal()
    with platform().db.transaction() as session:
        platform().access.audit.append(
            session,
            who.user_id if who else None,
            str(who.user_id) if who else "anonymous",
            Event(
                action="integrity.fail",
                object_type=exc.what,
                object_id=exc.object_id,
                outcome="fail",
                reason=str(exc),
            ),
        )
    if is_api():
        from .problems import problem

        return problem(500, "Integrity check failed", str(exc), slug="integrity-failure")
    return error_page(500, str(exc), "This item failed its integrity check")


def init_app(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        _keep_audit()
        return error_page(404)

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):
        _keep_audit()
        return error_page(409, str(exc))

    @app.errorhandler(NotPermitted)
    def _not_permitted(exc: NotPermitted):
        _keep_audit()
        return error_page(403, str(exc))

    app.register_error_handler(IntegrityFailure, integrity_failure)
    app.before_request(_refuse_unstorable_form)

    @app.errorhandler(sa_exc.SQLAlchemyError)
    def _database(exc: sa_exc.SQLAlchemyError):
        return database_outage(exc) if is_outage(exc) else crash(exc)

    @app.errorhandler(InvalidValue)
    def _invalid(exc: InvalidValue):
        rollback()
        return error_page(400, str(exc))

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        rollback()
        return error_page(
            400,
            "The form had expired or was not sent from this service. Go back, "
            "reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        rollback()
        code = exc.code or 500
        response = error_page(code)
        if code == 405 and exc.get_headers():
            allow = dict(exc.get_headers()).get("Allow")
            if allow:
                return response[0], code, {"Allow": allow}
        return response

    @app.errorhandler(Exception)
    def _crash(exc: Exception):
        return _http(exc) if isinstance(exc, HTTPException) else crash(exc)


def crash(exc: Exception) -> Response | tuple[str, int]:
    """Anything unforeseen: logged with its traceback, rolled back, a 500 without one."""
    log.exception("unhandled error")
    rollback()
    from .request import is_api

    if is_api():  # the API answers problem+json whatever failed (shareplatform/web/api.py)
        from .problems import problem

        return problem(500, "Internal Server Error", "Something went wrong; nothing was saved.")
    return error_page(500)
