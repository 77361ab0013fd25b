"""User administration: accounts, vetting, second factors, unlocking and disabling."""

from __future__ import annotations

from flask import Blueprint, abort, request

from ..domain.errors import InvalidValue
from ..domain.labels import Classification
from ..web.forms import admin_vocabulary, form_day, form_field, posted
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from . import admin as users_admin
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
    error, password, created = "", "", None
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
            created, password = users_admin.add_user(ctx(), data)
        except InvalidValue as exc:
            rollback()
            error = str(exc)
    return render(
        "users/user_new.html",
        None,
        error=error,
        password=password,
        created=created,
        form=request.form,
        status=400 if error else 200,
        **admin_vocabulary(),
    )


@bp.route("/users/<username>", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def user(username: str):
    c = ctx()
    error, message = "", request.args.get("message", "")
    if request.method == "POST":
        posted()
        action = form_field("action")
        try:
            if action == "update":
                message = _update(c, username)
            elif action == "disable":
                n = users_admin.disable_user(c, username, form_field("reason"))
                message = f"Account disabled; {n} session{'s' if n != 1 else ''} ended."
            elif action == "enable":
                users_admin.enable_user(c, username, form_field("reason"))
                message = "Account enabled."
            elif action == "reset_password":
                message = f"New one-time password: {users_admin.reset_password(c, username)}"
            elif action == "unlock":
                was = users_admin.unlock_user(c, username)
                message = "Account unlocked." if was else "The account was not locked."
            elif action == "reset_mfa":
                users_admin.reset_second_factor(c, username)
                message = (
                    "Second factor cleared: the user must enrol again at next sign-in; "
                    "their sessions ended."
                )
            else:
                abort(400)
        except InvalidValue as exc:
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
        status=400 if error else 200,
        **admin_vocabulary(),
    )


def _update(c, username: str) -> str:
    expires = form_day("expires", required=False)
    users_admin.update_user(
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
    )
    return "Changes saved."
