"""RFC 9457 problem details: every API error, in one place.

Domain errors map to HTTP answers here and nowhere else. A 404 reads the same whether the thing is
absent or simply not the caller's to know about; a 403 carries only the domain's safe explanation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response, request
from werkzeug.exceptions import HTTPException

from ..domain.errors import Conflict, InvalidValue, NotFound, NotPermitted

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:shareplatform:problem:"
NOT_FOUND_DETAIL = "The requested resource was not found."

# InvalidValue names fields the way a person would; the API answers with its own field names.
FIELD_NAMES = {
    "record type": "record_type",
    "date": "occurred_on",
    "title": "title",
    "details": "body",
    "classification": "classification",
    "caveat": "caveats",
    "attending agencies": "joint_agencies",
    "agency": "agency",
    "reason for correction": "reason",
    "name": "name",
    "scope": "scope",
    "days": "days",
    "identifier type": "identifiers",
}


def problem(
    status: int,
    title: str,
    detail: str = "",
    *,
    slug: str = "",
    errors: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, object] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    if errors:
        body["errors"] = dict(errors)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def from_http(error: HTTPException) -> Response:
    """Any werkzeug HTTP error (routing, 405, 413, webargs validation, abort) as problem+json."""
    code = error.code or 500
    headers = {
        k: v for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")
    }
    data = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    if code in (400, 422) and "messages" in data:  # webargs: the request did not match its schema
        return problem(
            400,
            "Bad Request",
            "The request has invalid or unknown fields.",
            slug="validation",
            errors=_flatten(data["messages"]),
            headers=headers,
        )
    if code == 404:
        return problem(404, "Not Found", NOT_FOUND_DETAIL, headers=headers)
    if code == 413:
        return problem(
            413,
            "Content Too Large",
            "The request body is larger than this API accepts.",
            headers=headers,
        )
    if code == 405:
        return problem(
            405,
            "Method Not Allowed",
            "This resource does not support that method.",
            headers=headers,
        )
    if code >= 500:
        return problem(
            code,
            "Internal Server Error",
            "Something went wrong; nothing was saved.",
            headers=headers,
        )
    detail = data.get("message") or (
        error.description if code in (400, 401, 403, 409, 415, 429) else ""
    )
    return problem(code, error.name, str(detail or ""), slug=data.get("slug", ""), headers=headers)


def from_domain(error: Exception) -> Response:
    if isinstance(error, NotFound):
        return problem(404, "Not Found", NOT_FOUND_DETAIL)
    if isinstance(error, Conflict):
        return problem(409, "Conflict", str(error), slug="conflict")
    if isinstance(error, NotPermitted):
        return problem(403, "Forbidden", str(error), slug="not-permitted")
    if isinstance(error, InvalidValue):
        field = FIELD_NAMES.get(error.kind, error.kind.replace(" ", "_"))
        return problem(
            422,
            "Unprocessable Content",
            str(error),
            slug="invalid-value",
            errors={field: [str(error)]},
        )
    raise error


def _flatten(messages: object) -> dict[str, object]:
    """webargs nests errors by location ({"json": {"title": [...]}}): flatten to field: messages."""
    if not isinstance(messages, Mapping):
        return {"_request": messages}
    out: dict[str, object] = {}
    for location, fields in messages.items():
        if isinstance(fields, Mapping):
            for name, msgs in fields.items():
                out[str(name)] = msgs
        else:
            out[str(location)] = fields
    return out
