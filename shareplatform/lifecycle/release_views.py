"""Release pages: ticking the handover task list, and recording a licence condition. Their
routes join the lifecycle blueprint; the case's lifecycle page shows both lists
(templates/lifecycle/_release.html)."""

from __future__ import annotations

from flask import redirect, request, url_for

from ..access.vocabulary import Act, Kind
from ..cases.services import get_case
from ..domain.errors import InvalidValue, NotPermitted
from ..domain.labels import Classification
from ..web.forms import error_summary, form_date
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from . import handover, licence
from .common import OS, may
from .views import bp

LICENCE_FIELDS = {
    "condition type": "condition_type",
    "start date": "starts_on-day",
    "end date": "ends_on-day",
    "details": "details",
    "classification": "classification",
}


@bp.route("/cases/<case_id>/lifecycle/handover", methods=["POST"])
@requires(Permission.LIFECYCLE_WRITE)
def tick(case_id: str):
    c = ctx()
    case = get_case(c, case_id)
    form = request.form
    handover.tick(c, case.id, form.get("task", ""), form.get("done") == "1", form.get("note", ""))
    return redirect(url_for("lifecycle.case_page", case_id=case.id, saved=1) + "#handover")


@bp.route("/cases/<case_id>/lifecycle/licence-conditions/new", methods=["GET", "POST"])
@requires(Permission.PLAN_WRITE)
def new_condition(case_id: str):
    c = ctx()
    case = get_case(c, case_id)
    errors: list[dict[str, str]] = []
    form = request.form
    if request.method == "POST":
        try:
            licence.record_condition(
                c,
                case.id,
                licence.NewCondition(
                    form.get("condition_type", ""),
                    form_date(form, "starts_on", "start date"),
                    form_date(form, "ends_on", "end date"),
                    form.get("details", ""),
                    form.get("classification") or OS.marking,
                ),
            )
        except (InvalidValue, NotPermitted) as exc:
            rollback()
            errors = error_summary(exc, LICENCE_FIELDS)
        else:
            return redirect(url_for("lifecycle.case_page", case_id=case.id, saved=1) + "#licence")
    labels = [
        m
        for m in Classification.markings()
        if may(c, case, kind=Kind.PLAN, act=Act.WRITE, label=Classification.parse(m))
    ]
    if not labels:
        raise NotPermitted("Only the case team and its managers may record licence conditions.")
    return render(
        "lifecycle/licence_form.html",
        OS,
        form.get("classification") if form.get("classification") in labels else None,
        case=case,
        errors=errors,
        form=form,
        types=[(t.value, t.title) for t in licence.ConditionType],
        labels=[(m, m) for m in labels],
        status=400 if errors else 200,
    )
