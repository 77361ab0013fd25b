"""The web shell every page passes through: templates, assets, the session cookie, CSRF, headers,
navigation.

Order per request: open the session (the cookie holds only a random id, which seeds CSRF) ->
identify and authorise (shareplatform/web/request.py) -> CSRF -> the view -> commit -> security
headers.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets as pysecrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, g, request, send_from_directory, url_for
from flask.sessions import SessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from ..access.vocabulary import Permission
from . import platform
from .permissions import public as mark_public
from .request import principal

log = logging.getLogger(__name__)

SESSION_COOKIE = "sp_session"
ANON_COOKIE = "sp_visitor"  # a random id that seeds CSRF tokens before sign-in; nothing else
STATIC_ENDPOINTS = frozenset({"static", "assets"})
GOVUK_ASSETS = Path(__file__).resolve().parent.parent / "static" / "govuk" / "assets"

csrf = CSRFProtect()


# -- sessions: no data in the cookie, only a random id --------------------------------------
class _RequestSession(dict, SessionMixin):
    """Holds only the CSRF seed, derived from the cookie's random id; never written to a cookie."""

    new_visitor: str | None = None
    seed_digest: bytes = b""


class ServerSideSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request):
        # No key here: the route is not matched yet, and the key is derived only for routes
        # that use the session (`_seed_csrf`), so a health probe never starts the platform.
        session = _RequestSession()
        seed = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE)
        if not seed:
            seed = pysecrets.token_urlsafe(32)
            session.new_visitor = seed
        session.seed_digest = hashlib.sha256(seed.encode()).digest()
        return session

    def save_session(self, app: Flask, session, response: Response) -> None:
        seed = getattr(session, "new_visitor", None)
        if seed and request.endpoint not in STATIC_ENDPOINTS:
            response.set_cookie(
                ANON_COOKIE,
                seed,
                httponly=True,
                samesite="Lax",
                secure=cookies_secure(),
            )


def secret_key(app: Flask) -> bytes:
    """Derived from the service key, never committed (crypto/service_secrets.py)."""
    key = app.config.get("SECRET_KEY")
    if not key:
        key = platform().service_secrets.flask_secret_key()
        app.config["SECRET_KEY"] = key
        app.secret_key = key
    return key


# Routes that never use the session, the CSRF token or the cookie-signing key.
SESSIONLESS_ENDPOINTS = STATIC_ENDPOINTS | {"healthz", "readyz"}


def _seed_csrf() -> None:
    """The CSRF seed, under the cookie-signing key: derived on the first request that needs it
    (deriving starts the platform, which reads the database)."""
    if request.endpoint in SESSIONLESS_ENDPOINTS:
        return
    from flask import current_app, session

    key = secret_key(current_app)
    digest = getattr(session, "seed_digest", b"")
    session["csrf_token"] = hmac.new(key, b"csrf|" + digest, "sha256").hexdigest()


# -- the session cookie ---------------------------------------------------------------------------
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def cookies_secure() -> bool:
    """Secure unless SESSION_COOKIE_SECURE is False. Left unset, one exception outside
    production: plain http from and to a loopback address (a developer's own machine, where
    browsers treat http as secure anyway; behind a proxy, PROXY_HOPS makes the addresses real)."""
    setting = _config("SESSION_COOKIE_SECURE")
    if setting is not None or _config("PRODUCTION"):
        return setting is not False
    if request.is_secure:
        return True
    host = urlsplit("//" + request.host).hostname
    return not (request.remote_addr in _LOOPBACK and host in _LOOPBACK)


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


# -- the per-request steps ------------------------------------------------------------------------
def _nonce() -> None:
    g.csp_nonce = pysecrets.token_urlsafe(18)


def _headers(response: Response) -> Response:
    if g.get("set_session_token"):
        response.set_cookie(
            SESSION_COOKIE,
            g.set_session_token,
            httponly=True,
            samesite="Lax",
            path="/",
            secure=cookies_secure(),
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
    # Never to another site; to this one, because over https the CSRF check (Flask-WTF's
    # WTF_CSRF_SSL_STRICT) refuses a form posted without a same-origin Referer.
    response.headers["Referrer-Policy"] = "same-origin"
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


@dataclass(frozen=True, order=True)
class NavItem:
    order: int
    text: str
    endpoint: str
    permission: Permission


def add_nav(app: Flask, text: str, endpoint: str, permission: Permission, order: int) -> None:
    """A feature's entry in the service navigation, shown only to those its permission allows."""
    items: list[NavItem] = app.extensions.setdefault("shareplatform_nav", [])
    items.append(NavItem(order, text, endpoint, permission))
    items.sort()


def nav_items() -> list[dict[str, object]]:
    from .request import ctx

    who = principal()
    if who is None or not who.mfa_done:
        return []
    c = ctx()
    items = []
    from flask import current_app

    for item in current_app.extensions.get("shareplatform_nav", []):
        text, endpoint, p = item.text, item.endpoint, item.permission
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
    except Exception:
        log.exception("navigation could not be built")
        return []


def _template_globals() -> dict[str, object]:
    who = principal()
    signed_in = who is not None and who.mfa_done
    return {
        "cspNonce": g.get("csp_nonce", ""),
        "assetPath": "/assets",
        "signed_in": signed_in,
        "pending_sign_in": who is not None and not who.mfa_done,
        "nav_items": _safe_nav() if signed_in else [],
        "agency_title": agency_title,
    }


_ID = "00000000-0000-0000-0000-000000000000"


def record_url(record_id: object) -> str:
    """The record page's URL: `url_for` built once per request, then filled per record (a
    timeline lists hundreds)."""
    template = g.get("record_url_template")
    if template is None:
        template = g.record_url_template = url_for("records.record", record_id=_ID)
    return str(template).replace(_ID, str(record_id))


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
    return f"{value:%-d %B %Y, %H:%M} UTC"


def init_app(app: Flask) -> None:
    app.session_interface = ServerSideSessionInterface()
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tokens live as long as the session does
    own = app.jinja_loader  # shareplatform/templates
    assert own is not None
    app.jinja_loader = ChoiceLoader(
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
    app.before_request(_seed_csrf)  # first: CSRF and every page need it
    app.before_request(_nonce)
    from . import request as pipeline

    pipeline.init_before(app)  # identify and authorise, before CSRF (a stranger signs in first)
    csrf.init_app(app)
    app.after_request(_headers)
    pipeline.init_after(app)  # the commit runs before the security headers are added
    app.context_processor(_template_globals)
    app.jinja_env.globals["record_url"] = record_url  # imported macros see globals, not context
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


__all__ = ["SESSION_COOKIE", "add_nav", "end_cookie", "init_app", "safe_next", "start_session"]
