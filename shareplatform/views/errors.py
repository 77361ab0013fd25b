"""Domain exceptions and HTTP errors become GOV.UK error pages here, and only here. No traces."""

from __future__ import annotations

import logging

from flask import Flask
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..domain.errors import Conflict, InvalidValue, NotFound, NotPermitted
from .rendering import commit, render, rollback

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
}


def error_page(status: int, message: str = "") -> tuple[str, int]:
    return render(
        "errors/error.html",
        status=status,
        code=status,
        title=TITLES.get(status, "Sorry, there is a problem"),
        message=message,
    )


def _keep_audit() -> None:
    """Denials were audited in this request's transaction: keep those entries. Services decide
    before they write, so nothing else is pending when a denial is raised."""
    try:
        commit()
    except Exception:  # noqa: BLE001 - an error page must still render
        log.exception("could not commit the audit entries of a denied request")
        rollback()


def init_app(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):  # type: ignore[no-untyped-def]
        _keep_audit()
        return error_page(404)

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):  # type: ignore[no-untyped-def]
        _keep_audit()
        return error_page(409, str(exc))

    @app.errorhandler(NotPermitted)
    def _not_permitted(exc: NotPermitted):  # type: ignore[no-untyped-def]
        _keep_audit()
        return error_page(403, str(exc))

    @app.errorhandler(InvalidValue)
    def _invalid(exc: InvalidValue):  # type: ignore[no-untyped-def]
        rollback()
        return error_page(400, str(exc))

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        rollback()
        return error_page(
            400,
            "The form had expired or was not sent from this service. Go back, "
            "reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        rollback()
        code = exc.code or 500
        response = error_page(code)
        if code == 405 and exc.get_headers():
            allow = dict(exc.get_headers()).get("Allow")
            if allow:
                return response[0], code, {"Allow": allow}
        return response

    @app.errorhandler(Exception)
    def _crash(exc: Exception):  # type: ignore[no-untyped-def]
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error")
        rollback()
        return error_page(500)
