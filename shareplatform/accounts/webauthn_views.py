"""Security keys (WebAuthn): the account page that lists, adds and removes them, and the JSON
steps that shareplatform/static/js/webauthn.js posts at sign-in and when adding a key.

The JSON posts carry the page's CSRF token in the X-CSRFToken header (Flask-WTF checks it like a
form field). The ceremonies themselves live in shareplatform/accounts/webauthn.py.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ..web import db_session, platform
from ..web.forms import ConfirmForm
from ..web.permissions import Permission, requires
from ..web.rendering import render
from ..web.shell import safe_next, start_session
from . import auth, webauthn
from .identity import active, current_user, settings

bp = Blueprint("keys", __name__, template_folder="templates")


def relying_party() -> webauthn.RelyingParty | None:
    """From SHAREPLATFORM_WEBAUTHN_RP_ID and _ORIGIN; unset, the request's own host outside
    production (a developer's machine, tests) and no security keys at all in production."""
    rp_id, origin = (
        current_app.config.get("WEBAUTHN_RP_ID"),
        current_app.config.get("WEBAUTHN_ORIGIN"),
    )
    if rp_id and origin:
        return webauthn.RelyingParty(str(rp_id), str(origin))
    if current_app.config.get("PRODUCTION"):
        return None
    own = urlsplit(request.host_url)
    return webauthn.RelyingParty(own.hostname or "", f"{own.scheme}://{own.netloc}")


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _refused(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def _options(text: str) -> Response:
    return current_app.response_class(text, mimetype="application/json")


KeyView = Callable[[webauthn.RelyingParty, auth.ActiveSession], ResponseReturnValue]


def _with_keys(view: KeyView) -> Callable[[], ResponseReturnValue]:
    """A JSON key step: refused (404) where security keys are not set up; else given the relying
    party and the caller's session (the route's permission has already required one)."""

    @functools.wraps(view)
    def step() -> ResponseReturnValue:
        rp, act = relying_party(), active()
        assert act is not None
        if rp is None:
            return _refused("Security keys are not set up on this service", 404)
        return view(rp, act)

    return step


# -- signing in -----------------------------------------------------------------------------------
@bp.route("/sign-in/key/options", methods=["POST"])
@requires(Permission.PRE_MFA)
@_with_keys
def sign_in_options(rp: webauthn.RelyingParty, act: auth.ActiveSession) -> ResponseReturnValue:
    try:
        with platform().db.transaction() as session:
            return _options(webauthn.begin_authentication(session, rp, act))
    except webauthn.KeyRefused as exc:
        return _refused(str(exc))


@bp.route("/sign-in/key", methods=["POST"])
@requires(Permission.PRE_MFA)
@_with_keys
def sign_in_with_key(rp: webauthn.RelyingParty, act: auth.ActiveSession) -> ResponseReturnValue:
    with platform().db.transaction() as session:  # committed before the answer leaves
        outcome = webauthn.finish_authentication(
            session,
            platform().access,
            settings(),
            rp,
            act,
            _body().get("credential") or {},
            request.remote_addr,
            request.headers.get("User-Agent"),
        )
    if outcome.ok and outcome.token:
        start_session(outcome.token)
        target = safe_next(str(_body().get("next") or "")) or url_for("cases.home")
        return jsonify({"redirect": target})
    return _refused(outcome.message)


# -- your keys ------------------------------------------------------------------------------------
@bp.route("/account/keys")
@requires(Permission.SIGNED_IN)
def index():
    return _page()


def _page(problem: str = "") -> tuple[str, int]:
    user = current_user()
    assert user is not None
    keys = webauthn.keys_of(db_session(), user.id)
    added = request.args.get("added", "")
    return render(
        "keys/index.html",
        keys=keys,
        form=ConfirmForm(),
        available=relying_party() is not None,
        added=next((k for k in keys if str(k.id) == added), None),
        removed=request.args.get("removed") == "1",
        problem=problem,
        status=400 if problem else 200,
    )


@bp.route("/account/keys/options", methods=["POST"])
@requires(Permission.SIGNED_IN)
@_with_keys
def add_options(rp: webauthn.RelyingParty, act: auth.ActiveSession) -> ResponseReturnValue:
    body = _body()
    try:  # a wrong code is counted and audited: kept (the unit of work commits a 400)
        options = webauthn.begin_registration(
            db_session(),
            platform().access,
            settings(),
            platform().service_secrets,
            rp,
            act,
            str(body.get("nickname") or ""),
            str(body.get("code") or ""),
            request.remote_addr,
        )
    except webauthn.KeyRefused as exc:
        return _refused(str(exc))
    return _options(options)


@bp.route("/account/keys", methods=["POST"])
@requires(Permission.SIGNED_IN)
@_with_keys
def add(rp: webauthn.RelyingParty, act: auth.ActiveSession) -> ResponseReturnValue:
    body = _body()
    try:
        key = webauthn.finish_registration(
            db_session(),
            platform().access,
            rp,
            act,
            body.get("credential") or {},
            str(body.get("nickname") or ""),
        )
    except webauthn.KeyRefused as exc:
        return _refused(str(exc))
    return jsonify({"redirect": url_for("keys.index", added=str(key.id))})


@bp.route("/account/keys/<key_id>/remove", methods=["POST"])
@requires(Permission.SIGNED_IN)
def remove(key_id: str):
    act = active()
    assert act is not None
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("keys.index"))
    try:
        webauthn.remove_key(db_session(), platform().access, act, _uuid(key_id))
    except webauthn.KeyRefused as exc:
        return _page(str(exc))
    return redirect(url_for("keys.index", removed="1"))


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        return uuid.UUID(int=0)  # no key has it: refused as "not one of yours"
