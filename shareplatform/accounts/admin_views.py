"""User administration: accounts, vetting, sign-in resets (one-time recovery codes), second
factors, unlocking and disabling, and the approvals that a second administrator gives."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, url_for

from ..domain.errors import InvalidValue, NotPermitted
from ..domain.labels import Classification
from ..web.forms import admin_vocabulary, form_day, form_field, posted
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from . import admin as users_admin
from . import approvals
from .services import NewUser

OS = Classification.OFFICIAL_SENSITIVE

bp = Blueprint("users", __name__, url_prefix="/admin", template_folder="templates")


# -- users --------------------------------------------------------------------------------------
@bp.route("/users")
@requires(Permission.USER_MANAGE)
def users():
    c = ctx()
    query = request.args.get("q", "")
    rows = users_admin.users(c, query)
    report = users_admin.vetting_report(c)
    return render(
        "users/users.html",
        None,
        rows=rows,
        report=report,
        query=query,
        message=request.args.get("message", ""),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def new_user():
    error, outcome = "", None
    if request.method == "POST":
        posted()
        try:
            data = NewUser(
                form_field("username"),
                form_field("display_name"),
                form_field("role"),
                form_field("vetting"),
                form_day("expires", required=False),
                None,
                form_field("nsd_unit") or None,
                form_field("ct_unit") or None,
            )
            outcome = users_admin.add_user(ctx(), data, form_field("reason"), _code_hours())
        except (InvalidValue, NotPermitted) as exc:
            rollback()
            error = str(exc)
    return render(
        "users/user_new.html",
        None,
        error=error,
        outcome=outcome,
        form=request.form,
        status=400 if error else 200,
        **admin_vocabulary(),
    )


@bp.route("/users/<username>", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def user(username: str):
    c = ctx()
    error, message, code = "", request.args.get("message", ""), ""
    if request.method == "POST":
        posted()
        action = form_field("action")
        reason = form_field("reason")
        try:
            if action == "update":
                message = _update(c, username)
            elif action == "disable":
                n = users_admin.disable_user(c, username, form_field("reason"))
                message = f"Account disabled; {n} session{'s' if n != 1 else ''} ended."
            elif action == "enable":
                users_admin.enable_user(c, username, form_field("reason"))
                message = "Account enabled."
            elif action == "reset_sign_in":
                done = users_admin.reset_sign_in(c, username, reason, _code_hours())
                message, code = done.message, done.code
            elif action == "unlock":
                was = users_admin.unlock_user(c, username)
                message = "Account unlocked." if was else "The account was not locked."
            elif action == "reset_mfa":
                message = users_admin.reset_second_factor(c, username, reason).message
            else:
                abort(400)
        except (InvalidValue, NotPermitted) as exc:
            rollback()
            error = str(exc)
    row, sessions = users_admin.user_detail(c, username)
    return render(
        "users/user.html",
        None,
        row=row,
        sessions=sessions,
        error=error,
        message=message,
        code=code,
        status=400 if error else 200,
        **admin_vocabulary(),
    )


def _code_hours() -> int:
    return int(current_app.config.get("RESET_CODE_HOURS", 4))


def _update(c, username: str) -> str:
    expires = form_day("expires", required=False)
    return users_admin.update_user(
        c,
        username,
        users_admin.Changes(
            display_name=form_field("display_name") or None,
            role=form_field("role") or None,
            vetting=form_field("vetting") or None,
            vetting_expires=expires,
            clear_expiry=expires is None,
            nsd_unit=form_field("nsd_unit"),
            ct_unit=form_field("ct_unit"),
        ),
        form_field("change_reason"),
    ).message


# -- approvals (the second administrator) --------------------------------------------------------
@bp.route("/approvals", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def approvals_page():
    c = ctx()
    error, message = "", request.args.get("message", "")
    if request.method == "POST":
        posted()
        action, request_id = form_field("action"), form_field("request")
        try:
            if action == "approve":
                message = approvals.approve(c, request_id)
            elif action == "refuse":
                approvals.refuse(c, request_id, form_field("note"))
                message = "Request refused."
            elif action == "withdraw":
                approvals.withdraw(c, request_id)
                message = "Request withdrawn."
            else:
                abort(400)
        except (InvalidValue, NotPermitted) as exc:
            rollback()
            error = str(exc)
        if not error:  # after a decision, a fresh page (a reload must not decide again)
            return redirect(url_for("users.approvals_page", message=message))
    return render(
        "users/approvals.html",
        None,
        requests=approvals.pending(c),
        error=error,
        message=message,
        status=400 if error else 200,
    )
