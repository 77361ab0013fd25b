"""Sign-in journey: password, second factor (or enrolment), recovery with a one-time code (new
password, then a new second factor), changing your password, sign out, sign out everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import segno
from flask import Blueprint, jsonify, redirect, request, url_for
from markupsafe import Markup

from ..accounts import auth, recovery, webauthn
from ..accounts.models import User, UserSession
from ..db import utcnow
from ..domain.errors import InvalidValue
from ..web import db_session, platform
from ..web.forms import ConfirmForm
from ..web.permissions import Permission, public, requires
from ..web.rendering import render, rollback
from ..web.shell import end_cookie, safe_next, start_session
from .forms import ChangePasswordForm, CodeForm, NewPasswordForm, RecoverForm, SignInForm
from .identity import active, current_user, settings

bp = Blueprint("auth", __name__, template_folder="templates")


def _address() -> str | None:
    return request.remote_addr


def _agent() -> str | None:
    return request.headers.get("User-Agent")


def _next_query() -> dict[str, Any]:
    target = safe_next(request.args.get("next"))
    return {"next": target} if target else {}


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    act = active()
    if act is not None and act.mfa_done:
        return redirect(url_for("cases.home"))
    form = SignInForm()
    problem = ""
    if form.validate_on_submit():
        with platform().db.transaction() as session:
            outcome = auth.password_step(
                session,
                platform().access,
                settings(),
                form.username.data or "",
                form.password.data or "",
                _address(),
                _agent(),
            )
        if outcome.ok and outcome.token:
            start_session(outcome.token)
            step = "auth.enrol" if outcome.next_step == "enrol" else "auth.code"
            return redirect(url_for(step, **_next_query()))
        problem = outcome.message
    reason = auth.SIGNED_OUT.get(request.args.get("reason", ""), "")
    form.password.data = ""  # never echo a password back
    return render(
        "auth/sign_in.html",
        form=form,
        problem=problem,
        reason=reason,
        status=400 if problem or form.errors else 200,
    )


def _second_factor(
    step: Callable[..., auth.Outcome], act: auth.ActiveSession, code: str
) -> auth.Outcome:
    """Check a code (sign-in or enrolment) in its own unit of work, committed before replying."""
    with platform().db.transaction() as session:
        return step(
            session,
            platform().access,
            settings(),
            platform().service_secrets,
            act,
            code,
            _address(),
            _agent(),
        )


@bp.route("/sign-in/code", methods=["GET", "POST"])
@requires(Permission.PRE_MFA)
def code():
    act = active()
    assert act is not None
    if act.mfa_done:
        return redirect(url_for("cases.home"))
    with platform().db.transaction() as session:
        if auth.needs_enrolment(session, act):
            return redirect(url_for("auth.enrol", **_next_query()))
    form = CodeForm()
    problem = ""
    if form.validate_on_submit():
        outcome = _second_factor(auth.code_step, act, form.code.data or "")
        if outcome.ok and outcome.token:
            start_session(outcome.token)
            return redirect(safe_next(request.args.get("next")) or url_for("cases.home"))
        if outcome.next_step == "enrol":
            return redirect(url_for("auth.enrol"))
        problem = outcome.message
        if "locked" in problem:
            end_cookie()
            return render(
                "auth/sign_in.html",
                form=SignInForm(formdata=None),
                problem=problem,
                reason="",
                status=400,
            )
    form.code.data = ""
    return render(
        "auth/code.html",
        form=form,
        problem=problem,
        security_key=_offers_key(act),
        next_url=safe_next(request.args.get("next")),
        status=400 if problem or form.errors else 200,
    )


def _offers_key(act: auth.ActiveSession) -> bool:
    """Offer "Use your security key" when the user has a key and the service is set up."""
    from .webauthn_views import relying_party

    if relying_party() is None:
        return False
    with platform().db.transaction() as session:
        return webauthn.has_keys(session, act.user_id)


@bp.route("/sign-in/enrol", methods=["GET", "POST"])
@requires(Permission.PRE_MFA)
def enrol():
    act = active()
    assert act is not None
    if act.mfa_done:
        return redirect(url_for("cases.home"))
    with platform().db.transaction() as session:
        if auth.needs_new_password(session, act):
            return redirect(url_for("auth.new_password"))
    form = CodeForm()
    problem = ""
    if form.validate_on_submit():
        outcome = _second_factor(auth.finish_enrolment, act, form.code.data or "")
        if outcome.ok and outcome.token:
            start_session(outcome.token)
            return redirect(safe_next(request.args.get("next")) or url_for("cases.home"))
        if outcome.message == "Sign in again":
            return redirect(url_for("auth.code"))
        problem = outcome.message
    with platform().db.transaction() as session:
        if not auth.needs_enrolment(session, act):
            return redirect(url_for("auth.code"))
        # a fresh secret on each showing: only a code from the secret last shown completes enrolment
        secret, uri = auth.begin_enrolment(session, platform().service_secrets, act)
        username = session.get(User, act.user_id).username  # type: ignore[union-attr]
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, title="QR code for your authenticator app", svgclass="app-qr"
    )
    form.code.data = ""
    return render(
        "auth/enrol.html",
        form=form,
        problem=problem,
        qr=Markup(svg),  # noqa: S704 - segno's own SVG
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        username=username,
        status=400 if problem or form.errors else 200,
    )


@bp.route("/sign-in/recover", methods=["GET", "POST"])
@public
def recover():
    """Sign in with a one-time recovery code from a user administrator."""
    act = active()
    if act is not None and act.mfa_done:
        return redirect(url_for("cases.home"))
    form = RecoverForm()
    problem = ""
    if form.validate_on_submit():
        with platform().db.transaction() as session:
            outcome = recovery.redeem(
                session,
                platform().access,
                settings(),
                form.username.data or "",
                form.code.data or "",
                _address(),
                _agent(),
            )
        if outcome.ok and outcome.token:
            start_session(outcome.token)
            return redirect(url_for("auth.new_password"))
        problem = outcome.message
    form.code.data = ""  # a code is never echoed back
    return render(
        "auth/recover.html",
        form=form,
        problem=problem,
        status=400 if problem or form.errors else 200,
    )


@bp.route("/sign-in/new-password", methods=["GET", "POST"])
@requires(Permission.PRE_MFA)
def new_password():
    """After a recovery code: the user's own new password, then a new second factor."""
    act = active()
    assert act is not None
    with platform().db.transaction() as session:
        if act.mfa_done or not auth.needs_new_password(session, act):
            return redirect(url_for("auth.code"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            with platform().db.transaction() as session:
                recovery.choose_password(
                    session,
                    platform().access,
                    act,
                    form.password.data or "",
                    form.confirm.data or "",
                )
        except InvalidValue as exc:
            _field_error(form, exc)
        else:
            return redirect(url_for("auth.enrol"))
    form.password.data = form.confirm.data = ""
    return render("auth/new_password.html", form=form, status=400 if form.errors else 200)


def _field_error(form: Any, exc: InvalidValue) -> None:
    """A service's refusal shown on the field it is about, GOV.UK style."""
    field = getattr(form, exc.kind, None) or form.password
    why = exc.why or str(exc)
    field.errors = [*field.errors, why[:1].upper() + why[1:]]


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def change_password():
    act = active()
    assert act is not None
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = recovery.change_password(
                db_session(),
                platform().access,
                settings(),
                act,
                form.current.data or "",
                form.password.data or "",
                form.confirm.data or "",
                _address(),
            )
        except recovery.WrongPassword as exc:  # kept: the failed attempt counts
            _field_error(form, exc)
        except InvalidValue as exc:
            rollback()
            _field_error(form, exc)
        else:
            return render("auth/password_changed.html", ended=ended)
    form.current.data = form.password.data = form.confirm.data = ""
    return render("auth/change_password.html", form=form, status=400 if form.errors else 200)


@bp.route("/sign-out", methods=["POST"])
@requires(Permission.PRE_MFA)
def sign_out():
    act = active()
    assert act is not None
    form = ConfirmForm()
    if form.validate_on_submit():
        with platform().db.transaction() as session:
            auth.sign_out(session, platform().access, act)
        end_cookie()
    return redirect(url_for("auth.sign_in", reason="signed-out"))


@bp.route("/account")
@requires(Permission.SIGNED_IN)
def account():
    user = current_user()
    act = active()
    assert user is not None and act is not None
    sessions = auth.active_sessions(db_session(), user.id)
    return render(
        "auth/account.html", user=user, sessions=sessions, form=ConfirmForm(), current=act.id_hash
    )


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@requires(Permission.SIGNED_IN)
def sign_out_everywhere():
    act = active()
    assert act is not None
    form = ConfirmForm()
    if form.validate_on_submit():
        with platform().db.transaction() as session:
            auth.sign_out(session, platform().access, act, everywhere=True)
        end_cookie()
        return redirect(url_for("auth.sign_in", reason="everywhere"))
    return redirect(url_for("auth.account"))


@bp.route("/session/keep-alive", methods=["POST"])
@requires(Permission.SIGNED_IN)
def keep_alive():
    """The timeout warning's "Stay signed in" (shareplatform/static/js/timeout-warning.js):
    the idle clock starts again now. CSRF-checked like every POST (the X-CSRFToken header)."""
    act = active()
    assert act is not None
    row = db_session().get(UserSession, act.id_hash)
    if row is not None:
        row.last_seen_at = utcnow()
    return jsonify({"idle_seconds": settings().idle_minutes * 60})
