"""The web shell every page passes through: templates, assets, sessions, CSRF, headers, permissions.

Order per request: open the session (the cookie holds only a random id) -> load and check the
server-side session in its own short transaction (idle/absolute timeout, disabled user, lapsed
vetting) -> CSRF -> the route's declared permission -> the view -> security headers.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets as pysecrets
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, redirect, request, send_from_directory, url_for
from flask.sessions import SessionInterface, SessionMixin
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import HTTPException

from ..accounts import auth
from ..accounts.models import User
from ..context import Ctx
from ..web import db_session, platform
from ..web.authorise import authorise
from .permissions import PRE_MFA, PUBLIC, SIGNED_IN, Permission, permission_of
from .permissions import public as mark_public

log = logging.getLogger(__name__)

SESSION_COOKIE = "sp_session"
ANON_COOKIE = "sp_visitor"  # a random id that seeds CSRF tokens before sign-in; nothing else
STATIC_ENDPOINTS = frozenset({"static", "assets"})
GOVUK_ASSETS = Path(__file__).resolve().parent.parent / "static" / "govuk" / "assets"

csrf = CSRFProtect()


# -- sessions: no data in the cookie, only a random id --------------------------------------
class _RequestSession(dict, SessionMixin):  # type: ignore[type-arg]
    """Holds only the CSRF seed, derived from the cookie's random id; never written to a cookie."""

    new_visitor: str | None = None


class ServerSideSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request):  # type: ignore[no-untyped-def,override]
        secret_key(app)
        session = _RequestSession()
        seed = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)
        if not seed:
            seed = pysecrets.token_urlsafe(32)
            session.new_visitor = seed
        digest = hashlib.sha256(seed.encode()).digest()
        session["csrf_token"] = hmac.new(app.secret_key, b"csrf|" + digest, "sha256").hexdigest()  # type: ignore[arg-type]
        return session

    def save_session(self, app: Flask, session, response: Response) -> None:  # type: ignore[no-untyped-def,override]
        seed = getattr(session, "new_visitor", None)
        if seed and request.endpoint not in STATIC_ENDPOINTS:
            response.set_cookie(
                ANON_COOKIE,
                seed,
                httponly=True,
                samesite="Lax",
                secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
            )


def secret_key(app: Flask) -> bytes:
    """Derived from the service key, never committed (crypto/service_secrets.py)."""
    key = app.config.get("SECRET_KEY")
    if not key:
        key = platform().service_secrets.flask_secret_key()
        app.config["SECRET_KEY"] = key
        app.secret_key = key
    return key  # type: ignore[no-any-return]


# -- the signed-in user ---------------------------------------------------------------------------
def settings() -> auth.AuthSettings:
    from flask import current_app

    return auth.AuthSettings.from_mapping(current_app.config)


def active() -> auth.ActiveSession | None:
    return g.get("auth_session")


def current_user() -> User | None:
    if "current_user" not in g:
        act = active()
        g.current_user = db_session().get(User, act.user_id) if act and act.mfa_done else None
    return g.current_user  # type: ignore[no-any-return]


def ctx() -> Ctx:
    """The service context for this request's signed-in user."""
    if "ctx" not in g:
        user = current_user()
        if user is None:
            abort(401)
        session = db_session()
        today = date.today()
        access = platform().access
        g.ctx = Ctx(
            session, access, access.subject(session, user, today), platform().indexer, today
        )
    return g.ctx  # type: ignore[no-any-return]


def start_session(token: str) -> None:
    g.set_session_token = token


def end_cookie() -> None:
    g.clear_session_cookie = True


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: never redirect to another host after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


# -- the per-request checks -----------------------------------------------------------------------
def _authenticate() -> ResponseReturnValue | None:
    g.csp_nonce = pysecrets.token_urlsafe(18)
    if request.endpoint in STATIC_ENDPOINTS:
        return None
    token = request.cookies.get(SESSION_COOKIE)
    g.auth_session = None
    if token:
        with platform().db.transaction() as session:
            loaded = auth.load_session(session, settings(), token)
        if isinstance(loaded, auth.Ended):
            g.signed_out_reason = loaded.code
            end_cookie()
        elif loaded is None:
            end_cookie()
        else:
            g.auth_session = loaded
    return _authorise()


def _authorise() -> ResponseReturnValue | None:
    if request.endpoint is None:  # no such route: the 404 page follows
        return None
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint)
    permission: Permission | None = permission_of(view)
    if permission is None:
        log.error("route %s declares no permission: refused", request.endpoint)
        abort(403)
    if permission.is_public:
        return None
    act = active()
    if permission.pre_mfa:
        if act is None:
            return _to_sign_in()
        return None
    if act is None:
        return _to_sign_in()
    if not act.mfa_done:
        return redirect(url_for("auth.code"))
    if permission.signed_in_only:
        return None
    authorise(ctx(), permission, request.endpoint or "")
    return None


def _to_sign_in() -> ResponseReturnValue:
    reason = g.get("signed_out_reason")
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    args: dict[str, Any] = {}
    if reason:
        args["reason"] = reason
    if target and target not in ("/", "/?"):
        args["next"] = target
    return redirect(url_for("auth.sign_in", **args))


def _headers(response: Response) -> Response:
    if g.get("set_session_token"):
        response.set_cookie(
            SESSION_COOKIE,
            g.set_session_token,
            httponly=True,
            samesite="Lax",
            path="/",
            secure=bool(_config("SESSION_COOKIE_SECURE")),
        )
    elif g.get("clear_session_cookie"):
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax")
    nonce = g.get("csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint not in STATIC_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _config(name: str) -> object:
    from flask import current_app

    return current_app.config.get(name)


# Service navigation: (text, endpoint, permission). Features add a line; shown only when permitted.
NAV: list[tuple[str, str, Permission]] = [
    ("Caseload", "cases.caseload", Permission.CASE_READ),
    ("Search", "cases.search", Permission.CASE_READ),
    ("My actions", "mappa.actions", Permission.SIGNED_IN),
    ("Policy", "admin.policy", Permission.POLICY_READ),
    ("Users", "admin.users", Permission.USER_MANAGE),
    ("Audit log", "admin.audit", Permission.AUDIT_READ),
    ("Reports", "reports.dashboard_page", Permission.CASE_READ),
    ("Break-glass reviews", "break_glass.reviews", Permission.BREAK_GLASS_REVIEW),
]


def nav_items() -> list[dict[str, object]]:
    if current_user() is None:
        return []
    c = ctx()
    items = []
    for text, endpoint, p in NAV:
        need = p.need
        if p.signed_in_only or (
            need.kind is not None
            and need.act is not None
            and c.access.can(c.session, c.subject, need.kind, need.act, need.label)
        ):
            items.append(
                {"text": text, "href": url_for(endpoint), "current": request.endpoint == endpoint}
            )
    return items


def _safe_nav() -> list[dict[str, object]]:
    try:
        return nav_items()
    except Exception:  # noqa: BLE001 - an error page must render even when the database cannot
        log.exception("navigation could not be built")
        return []


def _template_globals() -> dict[str, object]:
    act = active()
    user = current_user() if act is not None else None
    return {
        "cspNonce": g.get("csp_nonce", ""),
        "assetPath": "/assets",
        "current_user": user,
        "signed_in": user is not None,
        "pending_sign_in": act is not None and not act.mfa_done,
        "nav_items": _safe_nav() if user is not None else [],
        "agency_title": agency_title,
    }


def agency_title(value: str) -> str:
    from ..domain.agencies import Agency

    try:
        return Agency.parse(value).title
    except ValueError:
        return value


def role_title(value: str) -> str:
    from ..domain.agencies import Role

    try:
        return Role.parse(value).title
    except ValueError:
        return value


def govdate(value: object) -> str:
    """GOV.UK style dates: 27 March 2024."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return format(date.fromisoformat(value), "%-d %B %Y")
        except ValueError:
            return value
    return format(value, "%-d %B %Y")


def govdatetime(value: object) -> str:
    if value is None:
        return ""
    return f"{value:%-d %B %Y, %H:%M} UTC"  # type: ignore[str-format]


def init_app(app: Flask) -> None:
    app.session_interface = ServerSideSessionInterface()
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tokens live as long as the session does
    own = app.jinja_loader  # shareplatform/templates
    assert own is not None
    app.jinja_loader = ChoiceLoader(  # type: ignore[assignment]
        [
            own,
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)
    app.before_request(_authenticate)  # before CSRF: the CSRF seed comes from the session cookie
    csrf.init_app(app)
    app.after_request(_headers)
    app.context_processor(_template_globals)
    app.add_template_filter(govdate, "govdate")
    app.add_template_filter(govdatetime, "govdatetime")
    app.add_template_filter(agency_title, "agency_title")
    app.add_template_filter(role_title, "role_title")

    # GOV.UK Frontend's CSS hard-codes /assets/fonts and /assets/images
    def assets(filename: str) -> Response:
        return send_from_directory(GOVUK_ASSETS, filename, max_age=3600)

    app.add_url_rule("/assets/<path:filename>", "assets", mark_public(assets))
    if "static" in app.view_functions:
        send_static = app.send_static_file

        def static(filename: str) -> Response:
            return send_static(filename)

        app.view_functions["static"] = mark_public(static)


__all__ = [
    "PRE_MFA",
    "PUBLIC",
    "SIGNED_IN",
    "HTTPException",
    "active",
    "ctx",
    "current_user",
    "init_app",
    "safe_next",
    "settings",
    "start_session",
]
