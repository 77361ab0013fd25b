"""Bearer-token authentication and the per-request service context for the API.

Every request: check the token (hash lookup, expiry, revocation, user disabled, rate limit), then
build the user's Subject afresh in the request's own transaction, so the token never carries
privileges of its own. Denials are committed (their audit entries must survive); any other error
rolls the whole request back, so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from flask import Response, current_app, g, request

from ..accounts import tokens as token_service
from ..accounts.models import User
from ..audit.log import Event
from ..context import Ctx
from ..domain.errors import NotFound, NotPermitted
from ..domain.labels import Classification
from ..views.permissions import ATTRIBUTE, PUBLIC, Permission
from ..web import platform
from ..web.authorise import authorise
from .problems import problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_ATTRIBUTE = "__sp_api_permission__"
F = TypeVar("F", bound=Callable[..., Any])


def needs(permission: Permission) -> Callable[[F], F]:
    """Declare an API route's capability (checked against the token user's role on every call).

    To the web shell the route is public: it has no cookie session to check. The token check
    (authenticate) and this capability check (api_ctx) take its place.
    """

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, PUBLIC)
        setattr(view, API_ATTRIBUTE, permission)
        return view

    return mark


def _unauthorised(detail: str) -> Response:
    return problem(
        401,
        "Unauthorized",
        detail,
        slug="unauthenticated",
        headers={"WWW-Authenticate": 'Bearer realm="shareplatform"'},
    )


def authenticate() -> Response | None:
    """before_request for every API blueprint: answer 401/403/429 here, or let the view run."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return _unauthorised("Send a personal API token: 'Authorization: Bearer <token>'.")
    p = platform()
    try:
        with p.db.transaction() as session:
            auth = token_service.authenticate(
                session,
                p.access,
                raw.strip(),
                rate_limit=int(current_app.config.get("API_RATE_LIMIT", 600)),
                window_seconds=int(current_app.config.get("API_RATE_WINDOW", 60)),
            )
    except token_service.TokenRejected as rejected:
        with p.db.transaction() as session:
            token_service.audit_rejected(session, p.access, rejected)
        return _unauthorised("The token is not valid: it may have expired or been revoked.")
    except token_service.RateLimited as exc:
        return problem(
            429,
            "Too Many Requests",
            f"Rate limit reached; retry after {exc.retry_after} seconds.",
            slug="rate-limited",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if request.method not in SAFE_METHODS and auth.scope is not token_service.Scope.READ_WRITE:
        return problem(
            403,
            "Forbidden",
            "This token is read-only: create a read-write token to make changes.",
            slug="read-only-token",
        )
    g.api_auth = auth
    return None


@contextmanager
def api_ctx() -> Iterator[Ctx]:
    """One transaction for the request's use case, with today's Subject for the token's user."""
    auth: token_service.Authenticated = g.api_auth
    p = platform()
    session = p.db.sessions()
    denial: Exception | None = None
    try:
        with session.begin():
            try:
                user = session.get(User, auth.user_id)
                if user is None or user.disabled_at is not None:
                    raise NotFound("user")
                today = date.today()
                subject = p.access.subject(session, user, today)
                if subject.clearance is None:
                    p.access.record(
                        session,
                        subject,
                        Event(
                            action="api.request",
                            object_type="api",
                            outcome="deny",
                            label=Classification.OFFICIAL,
                            reason="vetting expired",
                            detail={"path": request.path},
                        ),
                    )
                    raise NotPermitted(
                        "Your vetting has expired: access is suspended until it is renewed."
                    )
                ctx = Ctx(session, p.access, subject, p.indexer, today)
                _check_route(ctx)
                yield ctx
            except (NotFound, NotPermitted) as exc:
                denial = exc  # keep the denial's audit entries: commit, then answer
        if denial is not None:
            raise denial
    finally:
        session.close()


def _check_route(ctx: Ctx) -> None:
    """The route's declared capability for this user's role, as the web checks it (fail closed)."""
    view = current_app.view_functions.get(request.endpoint or "")
    permission: Permission | None = getattr(view, API_ATTRIBUTE, None)
    if permission is None:
        raise NotPermitted("This API route declares no permission.")
    authorise(
        ctx,
        permission,
        request.endpoint or "",
        "Your role does not give access to this part of the API.",
    )
