"""Identifying each request (shareplatform/web/request.py, the Identity it asks for):

- pages: the server-side session named by the cookie (only a random id is in the cookie), loaded
  and checked in its own short transaction (idle and absolute timeouts, disabled user, lapsed
  vetting);
- the JSON API (/api/): a personal token in `Authorization: Bearer`, checked (hash lookup, expiry,
  revocation, disabled user, rate limit, read-only scope) in its own short transaction.

Either way the request then carries a Principal; what the user may do is decided afresh, on every
request, from their role and vetting: a token carries no privileges of its own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, current_app, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from ..db import utcnow
from ..web import db_session, platform
from ..web.forms import keeper_for
from ..web.problems import problem
from ..web.request import Principal
from ..web.shell import SESSION_COOKIE, end_cookie, safe_next
from . import auth
from . import tokens as token_service
from .models import User, UserSession

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def settings() -> auth.AuthSettings:
    return auth.AuthSettings.from_mapping(current_app.config)


def active() -> auth.ActiveSession | None:
    """The cookie's server-side session, second factor done or not."""
    return g.get("auth_session")


def current_user() -> User | None:
    """The signed-in user (second factor done), for pages that show who is signed in."""
    if "current_user" not in g:
        act = active()
        g.current_user = db_session().get(User, act.user_id) if act and act.mfa_done else None
    return g.current_user


class AccountsIdentity:
    def identify(self, api: bool) -> ResponseReturnValue | None:
        if api:
            return _from_token()
        _from_cookie()
        return None

    def challenge(self, api: bool, pending: bool) -> ResponseReturnValue:
        if api:
            return _unauthorised("Send a personal API token: 'Authorization: Bearer <token>'.")
        if pending:
            return redirect(url_for("auth.code"))
        return _to_sign_in()


def _from_cookie() -> None:
    token = request.cookies.get(SESSION_COOKIE)
    g.auth_session = None
    if not token:
        return None
    with platform().db.transaction() as session:
        loaded = auth.load_session(session, settings(), token)
    if isinstance(loaded, auth.Ended) or loaded is None:
        g.signed_out_reason = loaded.code if loaded else None
        # only a page load forgets the cookie: a post (an autosave) may come just before the
        # page's form, which needs it to be kept for its author (_keep_posted_form)
        if request.method in SAFE_METHODS:
            end_cookie()
    else:
        g.auth_session = loaded
        g.principal = Principal(loaded.user_id, loaded.mfa_done, "session")
    return None


def _to_sign_in() -> ResponseReturnValue:
    reason = g.get("signed_out_reason")
    target = request.full_path.rstrip("?") if request.method == "GET" else _keep_posted_form()
    args: dict[str, Any] = {}
    if reason:
        args["reason"] = reason
    if target and target not in ("/", "/?"):
        args["next"] = target
    return redirect(url_for("auth.sign_in", **args))


KEEP_AFTER_END = timedelta(hours=2)  # how long after a session ended its forms are still kept


def _keep_posted_form() -> str | None:
    """A form posted after its session timed out (idle or absolute) is sealed for the same
    user by its feature's keeper (shareplatform/web/forms.py `keep_on_timeout`); they return to it
    after signing in again. Only with a valid CSRF token of that session, so only that browser."""
    keeper = keeper_for(request.endpoint)
    token = request.cookies.get(SESSION_COOKIE)
    if keeper is None or not token:
        return None
    row = db_session().get(UserSession, auth.token_hash(token))
    if (
        row is None
        or not row.facts_intact
        or not row.mfa_done
        or row.ended_at is None
        or row.ended_at < utcnow() - KEEP_AFTER_END
        or not _timed_out(row, settings())
    ):
        return None
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return None
    return safe_next(keeper(row.user_id))


def _timed_out(row: UserSession, limits: auth.AuthSettings) -> bool:
    """Did the session end by its idle or absolute timeout? Signing out, "sign out everywhere",
    an account disabled or recovered end it earlier: a form posted with its cookie then is not
    kept (the person, or whoever holds the cookie, was meant to be out)."""
    assert row.ended_at is not None
    return row.ended_at >= min(
        row.last_seen_at + timedelta(minutes=limits.idle_minutes),
        row.created_at + timedelta(hours=limits.absolute_hours),
    )


def _unauthorised(detail: str) -> Response:
    return problem(
        401,
        "Unauthorized",
        detail,
        slug="unauthenticated",
        headers={"WWW-Authenticate": 'Bearer realm="shareplatform"'},
    )


def _from_token() -> Response | None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return _unauthorised("Send a personal API token: 'Authorization: Bearer <token>'.")
    p = platform()
    try:
        with p.db.transaction() as session:
            found = token_service.authenticate(
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
    if request.method not in SAFE_METHODS and found.scope is not token_service.Scope.READ_WRITE:
        return problem(
            403,
            "Forbidden",
            "This token is read-only: create a read-write token to make changes.",
            slug="read-only-token",
        )
    g.api_auth = found
    g.principal = Principal(found.user_id, True, "token")
    return None
