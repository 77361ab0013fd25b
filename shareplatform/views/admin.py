"""Administration pages: the policy editor (drafts, review, two-person approval, apply, versions),
users, case teams and the audit viewer. Views parse input, call a service and render."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Blueprint, Response, abort, redirect, request, url_for

from ..access import policy_files
from ..access.facts import CONDITIONS
from ..access.vocabulary import Act, Kind
from ..accounts import admin as users_admin
from ..accounts.services import NewUser
from ..audit_viewer import services as viewer
from ..cases import teams
from ..domain.agencies import CT_UNITS, NSD_UNITS, Agency, Role
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification
from ..domain.vetting import Vetting
from ..forms import ConfirmForm
from ..policy_admin import services as pa
from .permissions import Permission, requires
from .rendering import commit, render, rollback
from .shell import ctx

bp = Blueprint("admin", __name__, url_prefix="/admin")

OS = Classification.OFFICIAL_SENSITIVE


def _posted() -> None:
    """Every POST here carries the CSRF token (checked by flask-wtf)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _field(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _date(prefix: str, required: bool = True) -> date | None:
    parts = [_field(f"{prefix}-{p}") for p in ("day", "month", "year")]
    if not any(parts):
        if required:
            raise InvalidValue("date", "", why="enter a date")
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        raise InvalidValue(
            "date", " ".join(parts), why="enter a real date, for example 27 3 2024"
        ) from None


def _vocab() -> dict[str, Any]:
    return {
        "roles": [r.value for r in Role],
        "groups": list(policy_files.GROUPS),
        "kinds": list(policy_files.KINDS),
        "actions": list(policy_files.ACTIONS),
        "labels": ["*", *Classification.markings()],
        "conditions": list(CONDITIONS),
        "agencies": [a.value for a in Agency],
        "vettings": [v.value for v in Vetting],
        "nsd_units": list(NSD_UNITS),
        "ct_units": list(CT_UNITS),
    }


# -- policy -------------------------------------------------------------------------------------
@bp.route("/policy")
@requires(Permission.POLICY_READ)
def policy():  # type: ignore[no-untyped-def]
    c = ctx()
    filters = {k: request.args.get(k, "").strip() for k in ("agency", "role", "label", "action")}
    try:
        lines = pa.policy_table(c, **filters)
        error = ""
    except InvalidValue as exc:
        lines, error = pa.policy_table(c), str(exc)
    drafts = pa.drafts(c)
    commit()
    return render(
        "admin/policy.html",
        None,
        lines=lines,
        filters=filters,
        drafts=drafts,
        error=error,
        may_edit=pa.may(c, "edit"),
        **_vocab(),
    )


@bp.route("/policy/drafts", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def new_draft():  # type: ignore[no-untyped-def]
    _posted()
    cs = pa.start_change_set(ctx(), _field("description"))
    commit()
    return redirect(url_for("admin.draft", cs_id=cs.id))


@bp.route("/policy/drafts/<cs_id>")
@requires(Permission.POLICY_READ)
def draft(cs_id: str):  # type: ignore[no-untyped-def]
    c = ctx()
    cs, ops = pa.get_change_set(c, cs_id)
    review = pa.review(c, cs.id, with_whatif=cs.status == "draft")
    lines = pa.policy_table(c)
    commit()
    shown = OS if review.whatif is not None and not review.whatif.empty else None
    return render(
        "admin/draft.html",
        shown,
        cs=cs,
        ops=ops,
        review=review,
        lines=lines,
        is_author=cs.author_id == c.subject.user_id,
        may_approve=pa.may(c, "approve"),
        message=request.args.get("message", ""),
        show=lambda t: pa._show(t) if t else "",  # noqa: SLF001
        loads=json.loads,
        **_vocab(),
    )


def _back(cs_id: str, message: str = ""):  # type: ignore[no-untyped-def]
    return redirect(url_for("admin.draft", cs_id=cs_id, message=message or None))


def _line_values() -> tuple[str, list[str]]:
    ptype = _field("ptype") or "p"
    if ptype == "g":
        return ptype, [_field("subject"), _field("group")]
    return ptype, [
        _field(k) for k in ("subject", "object", "action", "label", "condition", "effect")
    ]


@bp.route("/policy/drafts/<cs_id>/lines", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def draft_line(cs_id: str):  # type: ignore[no-untyped-def]
    _posted()
    c = ctx()
    op = _field("op")
    try:
        if op == "remove":
            pa.remove_line(c, cs_id, _field("target"))
        elif op == "change":
            ptype, values = _line_values()
            pa.change_line(c, cs_id, _field("target"), ptype, values, _field("reason"))
        else:
            ptype, values = _line_values()
            pa.add_line(c, cs_id, ptype, values, _field("reason"))
    except InvalidValue as exc:
        rollback()
        return _back(cs_id, str(exc))
    commit()
    return _back(cs_id)


@bp.route("/policy/drafts/<cs_id>/undo/<int:op_id>", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def draft_undo(cs_id: str, op_id: int):  # type: ignore[no-untyped-def]
    _posted()
    pa.undo_op(ctx(), cs_id, op_id)
    commit()
    return _back(cs_id)


@bp.route("/policy/drafts/<cs_id>/approve", methods=["POST"])
@requires(Permission.POLICY_APPROVE)
def draft_approve(cs_id: str):  # type: ignore[no-untyped-def]
    _posted()
    try:
        outcome = pa.approve(ctx(), cs_id, _field("reason"))
    except InvalidValue as exc:
        rollback()
        return _back(cs_id, str(exc))
    commit()
    return _back(
        cs_id, outcome.refused or "Change approved. Either administrator may now apply it."
    )


@bp.route("/policy/drafts/<cs_id>/apply", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def draft_apply(cs_id: str):  # type: ignore[no-untyped-def]
    _posted()
    try:
        outcome = pa.apply(ctx(), cs_id)
    except InvalidValue as exc:
        rollback()
        return _back(cs_id, str(exc))
    commit()  # the refusal's audit entry, or the new version
    if not outcome.applied:
        return _back(cs_id, outcome.refused)
    return redirect(url_for("admin.versions", applied=outcome.version))


@bp.route("/policy/drafts/<cs_id>/discard", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def draft_discard(cs_id: str):  # type: ignore[no-untyped-def]
    _posted()
    pa.discard(ctx(), cs_id)
    commit()
    return redirect(url_for("admin.policy"))


@bp.route("/policy/versions")
@requires(Permission.POLICY_READ)
def versions():  # type: ignore[no-untyped-def]
    c = ctx()
    rows = pa.versions(c)
    commit()
    return render(
        "admin/versions.html",
        None,
        versions=rows,
        applied=request.args.get("applied", ""),
        message=request.args.get("message", ""),
        may_edit=pa.may(c, "edit"),
    )


@bp.route("/policy/versions/<int:number>")
@requires(Permission.POLICY_READ)
def version(number: int):  # type: ignore[no-untyped-def]
    rules = pa.version_rules(ctx(), number)
    commit()
    return render("admin/version.html", None, number=number, rules=rules)


@bp.route("/policy/versions/<int:number>/restore", methods=["POST"])
@requires(Permission.POLICY_EDIT)
def restore(number: int):  # type: ignore[no-untyped-def]
    _posted()
    try:
        outcome = pa.restore(ctx(), number, _field("reason"))
    except InvalidValue as exc:
        rollback()
        return redirect(url_for("admin.versions", message=str(exc)))
    commit()
    if outcome.applied:
        return redirect(url_for("admin.versions", applied=outcome.version))
    return _back(str(outcome.change_set_id), outcome.refused)


# -- users --------------------------------------------------------------------------------------
@bp.route("/users")
@requires(Permission.USER_MANAGE)
def users():  # type: ignore[no-untyped-def]
    c = ctx()
    query = request.args.get("q", "")
    rows = users_admin.users(c, query)
    report = users_admin.vetting_report(c)
    commit()
    return render(
        "admin/users.html",
        None,
        rows=rows,
        report=report,
        query=query,
        message=request.args.get("message", ""),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def new_user():  # type: ignore[no-untyped-def]
    error, password, created = "", "", None
    if request.method == "POST":
        _posted()
        try:
            data = NewUser(
                _field("username"),
                _field("display_name"),
                _field("role"),
                _field("vetting"),
                _date("expires", required=False),
                None,
                _field("nsd_unit") or None,
                _field("ct_unit") or None,
            )
            created, password = users_admin.add_user(ctx(), data)
        except InvalidValue as exc:
            rollback()
            error = str(exc)
        else:
            commit()
    return render(
        "admin/user_new.html",
        None,
        error=error,
        password=password,
        created=created,
        form=request.form,
        status=400 if error else 200,
        **_vocab(),
    )


@bp.route("/users/<username>", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def user(username: str):  # type: ignore[no-untyped-def]
    c = ctx()
    error, message = "", request.args.get("message", "")
    if request.method == "POST":
        _posted()
        action = _field("action")
        try:
            if action == "update":
                message = _update(c, username)
            elif action == "disable":
                n = users_admin.disable_user(c, username, _field("reason"))
                message = f"Account disabled; {n} session{'s' if n != 1 else ''} ended."
            elif action == "enable":
                users_admin.enable_user(c, username, _field("reason"))
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
        else:
            commit()
    row, sessions = users_admin.user_detail(c, username)
    commit()
    return render(
        "admin/user.html",
        None,
        row=row,
        sessions=sessions,
        error=error,
        message=message,
        status=400 if error else 200,
        **_vocab(),
    )


def _update(c, username: str) -> str:  # type: ignore[no-untyped-def]
    expires = _date("expires", required=False)
    users_admin.update_user(
        c,
        username,
        users_admin.Changes(
            display_name=_field("display_name") or None,
            role=_field("role") or None,
            vetting=_field("vetting") or None,
            vetting_expires=expires,
            clear_expiry=expires is None,
            nsd_unit=_field("nsd_unit"),
            ct_unit=_field("ct_unit"),
        ),
    )
    return "Changes saved."


# -- teams --------------------------------------------------------------------------------------
@bp.route("/teams", methods=["GET", "POST"])
@requires(Permission.TEAM_MANAGE)
def team():  # type: ignore[no-untyped-def]
    c = ctx()
    reference = (request.values.get("case") or "").strip()
    error, warnings, confirm_form, message = "", [], None, ""
    if request.method == "POST":
        _posted()
        confirm = _field("confirm") == "yes"
        try:
            if _field("action") == "end":
                teams.end_membership(
                    c,
                    _field("membership"),
                    _date("end") or date.today(),
                    _field("reason"),
                    confirm=confirm,
                )
                message = "Membership ended."
            else:
                teams.allocate(
                    c,
                    reference,
                    _field("username"),
                    _field("capacity"),
                    _date("start") or date.today(),
                    panel=_field("panel") == "yes",
                    lead=_field("lead") == "yes",
                    end=_date("end", required=False),
                    confirm=confirm,
                )
                message = "Membership added."
        except teams.NeedsConfirmation as exc:
            rollback()
            warnings, confirm_form = exc.warnings, dict(request.form)
        except InvalidValue as exc:
            rollback()
            error = str(exc)
        else:
            commit()
    view = None
    if reference:
        try:
            view = teams.team(c, reference)
        except NotFound:
            error = error or f"No case with reference {reference}."
    commit()
    return render(
        "admin/team.html",
        OS if view else None,
        view=view,
        reference=reference,
        error=error,
        warnings=warnings,
        confirm_form=confirm_form,
        message=message,
        status=400 if error else 200,
        roles=[r.value for r in Role],
    )


# -- audit --------------------------------------------------------------------------------------
def _filters() -> viewer.Filters:
    def when(name: str, end: bool) -> datetime | None:
        value = request.args.get(name, "").strip()
        if not value:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidValue(name, value, why="use a date like 2024-03-27") from None
        return datetime.combine(day, time.max if end else time.min, UTC)

    a = request.args
    return viewer.Filters(
        a.get("user", "").strip(),
        a.get("case", "").strip(),
        a.get("outcome", "").strip(),
        a.get("label", "").strip(),
        when("since", False),
        when("until", True),
    )


@bp.route("/audit")
@requires(Permission.AUDIT_READ)
def audit():  # type: ignore[no-untyped-def]
    c = ctx()
    error = ""
    try:
        filters = _filters()
        page = viewer.search(c, filters, max(int(request.args.get("page", "1") or 1), 1))
    except (InvalidValue, ValueError) as exc:
        rollback()
        error, filters = str(exc), viewer.Filters()
        page = viewer.search(c, filters)
    status = (
        viewer.chain_status(c)
        if c.access.decide(c.session, c.subject, _audit_facts(), Act.VERIFY).allowed
        else None
    )
    commit()
    next_args = {
        **{k: v for k, v in request.args.items() if k != "page"},
        "page": int(request.args.get("page", "1") or 1) + 1,
    }
    return render(
        "admin/audit.html",
        page.highest,
        page=page,
        args=request.args,
        error=error,
        chain=status,
        outcomes=viewer.OUTCOMES,
        next_args=next_args,
    )


def _audit_facts():  # type: ignore[no-untyped-def]
    from ..access.facts import Facts

    return Facts(Kind.AUDIT, Classification.OFFICIAL)


@bp.route("/audit/export.csv")
@requires(Permission.AUDIT_EXPORT)
def audit_export():  # type: ignore[no-untyped-def]
    text, label, _ = viewer.export_csv(ctx(), _filters())
    commit()
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{label.marking.lower()}.csv"',
            "X-Classification": label.marking,
        },
    )


__all__ = ["bp", "NotPermitted"]
