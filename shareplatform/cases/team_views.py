"""Case teams: who holds each case in each agency, and POM-to-COM handover. A MAPPA panel place
is requested here and written when a second administrator approves it (Approvals page)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, request

from ..domain.agencies import Role
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification
from ..web.forms import form_day, form_field, posted
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from . import teams

OS = Classification.OFFICIAL_SENSITIVE

bp = Blueprint("teams", __name__, url_prefix="/admin", template_folder="templates")


# -- teams --------------------------------------------------------------------------------------
@bp.route("/teams", methods=["GET", "POST"])
@requires(Permission.TEAM_MANAGE)
def team():
    c = ctx()
    reference = (request.values.get("case") or "").strip()
    error, warnings, confirm_form, message = "", [], None, ""
    if request.method == "POST":
        posted()
        confirm = form_field("confirm") == "yes"
        try:
            if form_field("action") == "end":
                teams.end_membership(
                    c,
                    form_field("membership"),
                    form_day("end") or date.today(),
                    form_field("reason"),
                    confirm=confirm,
                )
                message = "Membership ended."
            elif form_field("panel") == "yes":
                teams.request_panel_place(
                    c,
                    reference,
                    form_field("username"),
                    form_field("capacity"),
                    form_day("start") or date.today(),
                    reason=form_field("request_reason"),
                    end=form_day("end", required=False),
                )
                message = (
                    "Panel place requested: it starts when a second administrator approves it."
                )
            else:
                teams.allocate(
                    c,
                    reference,
                    form_field("username"),
                    form_field("capacity"),
                    form_day("start") or date.today(),
                    lead=form_field("lead") == "yes",
                    end=form_day("end", required=False),
                    confirm=confirm,
                )
                message = "Membership added."
        except teams.NeedsConfirmation as exc:
            rollback()
            warnings, confirm_form = exc.warnings, dict(request.form)
        except (InvalidValue, NotPermitted) as exc:
            rollback()
            error = str(exc)
    view = None
    if reference:
        try:
            view = teams.team(c, reference)
        except NotFound:
            error = error or f"No case with reference {reference}."
    return render(
        "teams/team.html",
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
