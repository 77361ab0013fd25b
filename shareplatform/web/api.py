"""The JSON API under /api/v1: the same service functions as the web forms, behind bearer tokens.

Each feature registers its own API blueprint (`register_api`). Errors on /api/ paths are always
problem+json, whatever HTML error pages the web app registers for the rest of the site.
"""

from __future__ import annotations

import json
import re
from typing import Any

import flask_smorest
from flask import Flask, Response, current_app, request
from flask.typing import ResponseReturnValue
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from ..domain.errors import DomainError, InvalidValue
from . import problems
from .rendering import rollback
from .schemas import ProblemSchema

PREFIX = "/api/v1"
ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 413, 422, 429, 500)


class _Parser(FlaskParser):
    # schema mismatches (missing, malformed or unknown fields) are 400; domain rule breaches 422
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser(unknown="raise")


class Api(flask_smorest.Api):
    """flask-smorest, answering problem+json and keeping exception headers (405 keeps Allow)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        # No app-wide HTTPException handler (the web keeps its pages): wrap /api/ paths only.
        app = self._app
        original = app.handle_http_exception

        def handle_http_exception(error: HTTPException) -> Any:
            if _is_api_path():
                return self.handle_http_exception(error)
            return original(error)

        app.handle_http_exception = handle_http_exception

    def handle_http_exception(self, error: HTTPException) -> Any:
        return problems.from_http(error)

    def _register_responses(self) -> None:
        from flask_smorest.utils import prepare_response

        for status in ERROR_STATUSES:
            from http import HTTPStatus

            response = {"description": HTTPStatus(status).phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, problems.PROBLEM_JSON)
            self.spec.components.response(HTTPStatus(status).name, response, lazy=True)
        response = {"description": "Problem details (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _is_api_path() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


# -- hostile bodies: checked once for every API operation, before any route parses one ----------
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Nesting deeper than `limit`, read from the bytes without recursion (the decoder would
    recurse once per level: a 10,000-deep body raises RecursionError)."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return False  # too few openings to nest that deep: most bodies stop here
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def unstorable_pointer(value: object) -> str | None:
    """The JSON pointer (RFC 6901) of the first string or key holding a lone surrogate or a NUL
    (neither can be stored: UTF-8 has no surrogates, PostgreSQL no NUL in text), else None."""
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        pointer, item = stack.pop()
        if isinstance(item, str):
            if unstorable(item):
                return pointer
        elif isinstance(item, dict):
            for key, member in item.items():
                child = pointer + "/" + _pointer_token(key)
                if unstorable(key):
                    return child
                stack.append((child, member))
        elif isinstance(item, list):
            stack.extend((f"{pointer}/{i}", member) for i, member in enumerate(item))
    return None


def unstorable(text: str) -> bool:
    """A NUL or a lone surrogate: text no backend stores (also used for forms: web/errors.py)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _pointer_token(key: str) -> str:
    # printable in the answer even when the key itself is not valid Unicode
    safe = key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")
    return safe.replace("~", "~0").replace("/", "~1")


def _bad_body(detail: str, pointer: str | None = None) -> Response:
    errors = {pointer: [detail]} if pointer is not None else None
    return problems.problem(400, "Bad Request", detail, slug="invalid-body", errors=errors)


def check_body() -> Response | None:
    """Refuse what no API operation can take, before any route or webargs parses the body: too
    large (413, from MAX_CONTENT_LENGTH), nested too deeply, not UTF-8, a lone surrogate or NUL."""
    if not _is_api_path():
        return None
    raw = request.get_data(cache=True)  # raises 413 beyond MAX_CONTENT_LENGTH
    if not raw:
        return None
    if json_depth_exceeds(raw):
        return _bad_body("JSON nested too deeply.")
    if not request.is_json:
        return None  # webargs reads JSON bodies only; anything else is refused as missing
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _bad_body("The request body is not valid UTF-8.")
    try:
        parsed = json.loads(text)
    except ValueError:
        return _bad_body("The request body is not valid JSON.")
    pointer = unstorable_pointer(parsed)
    if pointer is not None:
        return _bad_body("A value holds a NUL or a character that is not valid Unicode.", pointer)
    return None


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "shareplatform API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_RATE_LIMIT", 600)  # requests per token per window
    app.config.setdefault("API_RATE_WINDOW", 60)  # seconds
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "Personal API tokens: create one in the web app (Your API tokens), "
                "then send 'Authorization: Bearer <token>'. Every call is decided and "
                "audited as in the web app."
            },
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    app.before_request(check_body)  # after identification: strangers get their 401 first
    api = Api(app)
    _public_spec(app, api)
    app.extensions["shareplatform_api"] = api


def register_api(app: Flask, blp: Blueprint) -> None:
    """A feature's API blueprint, guarded (see `guard`), in the one OpenAPI document."""
    app.extensions["shareplatform_api"].register_blueprint(blp)


def _public_spec(app: Flask, api: Api) -> None:
    """The OpenAPI document is public (it describes, it holds no data): say so to the web shell."""
    from .permissions import public

    endpoint = f"{api._make_doc_blueprint_name()}.openapi_json"
    serve = app.view_functions[endpoint]

    def openapi_json() -> Any:
        return serve()

    app.view_functions[endpoint] = public(openapi_json)


def guard(blp: Blueprint) -> Blueprint:
    """CSRF exemption and problem+json errors for one API blueprint. (Its requests are identified
    by bearer token and authorised like every other route: shareplatform/web/request.py.)"""

    @blp.url_value_preprocessor
    def _csrf_exempt(endpoint: str | None, values: dict[str, Any] | None) -> None:
        # Token-authenticated, cookie-less: no CSRF. Runs before any CSRF before_request.
        csrf = current_app.extensions.get("csrf")
        if csrf is not None:
            csrf.exempt(blp)

    def _domain_error(error: DomainError) -> ResponseReturnValue:
        if isinstance(error, InvalidValue):
            rollback()  # nothing of a refused input stands; refusals keep their audit entries
        return problems.from_domain(error)

    def _server_error(error: Exception) -> ResponseReturnValue:
        return problems.problem(
            500, "Internal Server Error", "Something went wrong; nothing was saved."
        )

    blp.register_error_handler(DomainError, _domain_error)
    blp.register_error_handler(500, _server_error)
    return blp
