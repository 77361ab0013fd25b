"""The policy editor: drafts, review with diff and what-if, two-person approval, apply, numbered
versions and rollback. Views parse input, call a service and render."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, redirect, request, url_for

from ..domain.errors import InvalidValue
from ..domain.labels import Classification
from ..web.forms import admin_vocabulary, form_field, posted
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from . import services as pa

OS = Classification.OFFICIAL_SENSITIVE

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def _max_users_lost() -> int:
    """shareplatform/config.py POLICY_MAX_USERS_LOST (SHAREPLATFORM_POLICY_MAX_USERS_LOST)."""
    return int(current_app.config.get("POLICY_MAX_USERS_LOST", 10))


# -- policy -------------------------------------------------------------------------------------
@bp.route("/policy")
@requires(Permission.POLICY_READ)
def policy():
    c = ctx()
    filters = {k: request.args.get(k, "").strip() for k in ("agency", "role", "label", "action")}
    try:
        lines = pa.policy_table(c, **filters)
        error = ""
    except InvalidValue as exc:
        lines, error = pa.policy_table(c), str(exc)
    drafts = pa.drafts(c)
    return render(
        "policy/policy.html",
        None,
        lines=lines,
        filters=filters,
        drafts=drafts,
        error=error,
        may_edit=pa.may(c, "edit"),
        **admin_vocabulary(),
    )


@bp.route("/policy/drafts", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def new_draft():
    posted()
    cs = pa.start_change_set(ctx(), form_field("description"))
    return redirect(url_for("admin.draft", cs_id=cs.id))


@bp.route("/policy/drafts/<cs_id>")
@requires(Permission.POLICY_READ)
def draft(cs_id: str):
    c = ctx()
    cs, ops = pa.get_change_set(c, cs_id)
    review = pa.review(c, cs.id, with_whatif=cs.status == "draft", max_users_lost=_max_users_lost())
    lines = pa.policy_table(c)
    shown = OS if review.whatif is not None and not review.whatif.empty else None
    return render(
        "policy/draft.html",
        shown,
        cs=cs,
        ops=ops,
        review=review,
        lines=lines,
        is_author=cs.author_id == c.subject.user_id,
        may_approve=pa.may(c, "approve"),
        message=request.args.get("message", ""),
        show=lambda t: pa._show(t) if t else "",
        loads=json.loads,
        **admin_vocabulary(),
    )


def _back(cs_id: str, message: str = ""):
    return redirect(url_for("admin.draft", cs_id=cs_id, message=message or None))


def _line_values() -> tuple[str, list[str]]:
    ptype = form_field("ptype") or "p"
    if ptype == "g":
        return ptype, [form_field("subject"), form_field("group")]
    return ptype, [
        form_field(k) for k in ("subject", "object", "action", "label", "condition", "effect")
    ]


@bp.route("/policy/drafts/<cs_id>/lines", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def draft_line(cs_id: str):
    posted()
    c = ctx()
    op = form_field("op")
    try:
        if op == "remove":
            pa.remove_line(c, cs_id, form_field("target"))
        elif op == "change":
            ptype, values = _line_values()
            pa.change_line(c, cs_id, form_field("target"), ptype, values, form_field("reason"))
        else:
            ptype, values = _line_values()
            pa.add_line(c, cs_id, ptype, values, form_field("reason"))
    except InvalidValue as exc:
        rollback()
        return _back(cs_id, str(exc))
    return _back(cs_id)


@bp.route("/policy/drafts/<cs_id>/undo/<int:op_id>", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def draft_undo(cs_id: str, op_id: int):
    posted()
    pa.undo_op(ctx(), cs_id, op_id)
    return _back(cs_id)


@bp.route("/policy/drafts/<cs_id>/approve", methods=["POST"])
@requires(Permission.POLICY_APPROVE)
def draft_approve(cs_id: str):
    posted()
    try:
        outcome = pa.approve(ctx(), cs_id, form_field("reason"), max_users_lost=_max_users_lost())
    except InvalidValue as exc:
        rollback()
        return _back(cs_id, str(exc))
    return _back(
        cs_id, outcome.refused or "Change approved. Either administrator may now apply it."
    )


@bp.route("/policy/drafts/<cs_id>/apply", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def draft_apply(cs_id: str):
    posted()
    try:
        outcome = pa.apply(ctx(), cs_id, max_users_lost=_max_users_lost())
    except InvalidValue as exc:
        rollback()
        return _back(cs_id, str(exc))
    if not outcome.applied:
        return _back(cs_id, outcome.refused)
    return redirect(url_for("admin.versions", applied=outcome.version))


@bp.route("/policy/drafts/<cs_id>/discard", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def draft_discard(cs_id: str):
    posted()
    pa.discard(ctx(), cs_id)
    return redirect(url_for("admin.policy"))


@bp.route("/policy/versions")
@requires(Permission.POLICY_READ)
def versions():
    c = ctx()
    rows = pa.versions(c)
    return render(
        "policy/versions.html",
        None,
        versions=rows,
        applied=request.args.get("applied", ""),
        message=request.args.get("message", ""),
        may_edit=pa.may(c, "edit"),
    )


@bp.route("/policy/versions/<int:number>")
@requires(Permission.POLICY_READ)
def version(number: int):
    rules = pa.version_rules(ctx(), number)
    return render("policy/version.html", None, number=number, rules=rules)


@bp.route("/policy/versions/<int:number>/restore", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def restore(number: int):
    posted()
    try:
        outcome = pa.restore(ctx(), number, form_field("reason"), max_users_lost=_max_users_lost())
    except InvalidValue as exc:
        rollback()
        return redirect(url_for("admin.versions", message=str(exc)))
    if outcome.applied:
        return redirect(url_for("admin.versions", applied=outcome.version))
    return _back(str(outcome.change_set_id), outcome.refused)
