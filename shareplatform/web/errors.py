"""Domain exceptions and HTTP errors become GOV.UK error pages here, and only here. No traces.

(The JSON API answers problem+json instead: shareplatform/web/api.py.) A refusal keeps the audit
entries the request wrote (the unit of work commits them, shareplatform/web/request.py); invalid
input and crashes roll back whatever the request wrote.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from flask_wtf.csrf import CSRFError
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
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error")
        rollback()
        return error_page(500)
