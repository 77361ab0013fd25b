"""Release pages: ticking the handover task list, and recording, changing (a variation) or ending
a licence condition. Their routes join the lifecycle blueprint; the case's lifecycle page shows
both lists (templates/lifecycle/_release.html)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import redirect, request, url_for
from werkzeug.datastructures import MultiDict

from ..cases.models import Case
from ..cases.services import get_case
from ..domain.errors import InvalidValue, NotPermitted
from ..web.forms import error_summary, form_date
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from . import handover, licence
from .common import OS
from .views import bp, plan_labels

REFUSAL = "Only the case team and its managers may record licence conditions."

LICENCE_FIELDS = {
    "condition type": "condition_type",
    "start date": "starts_on-day",
    "end date": "ends_on-day",
    "details": "details",
    "classification": "classification",
    "reason": "reason",
    "condition": "condition_type",
}


@bp.route("/cases/<case_id>/lifecycle/handover", methods=["POST"])
@requires(Permission.LIFECYCLE_WRITE)
def tick(case_id: str):
    c = ctx()
    case = get_case(c, case_id)
    form = request.form
    handover.tick(c, case.id, form.get("task", ""), form.get("done") == "1", form.get("note", ""))
    return redirect(url_for("lifecycle.case_page", case_id=case.id, saved=1) + "#handover")


def _saved(save: Callable[[], object]) -> list[dict[str, str]]:
    """Run a licence form's service call: [] when it stored, else the error summary (and
    nothing of it is kept: the request's writes are rolled back)."""
    try:
        save()
    except (InvalidValue, NotPermitted) as exc:
        rollback()
        return error_summary(exc, LICENCE_FIELDS)
    return []


def _terms(form: MultiDict[str, str]) -> licence.NewCondition:
    return licence.NewCondition(
        form.get("condition_type", ""),
        form_date(form, "starts_on", "start date"),
        form_date(form, "ends_on", "end date"),
        form.get("details", ""),
        form.get("classification") or OS.marking,
    )


def _licence_page(case: Case):
    return redirect(url_for("lifecycle.case_page", case_id=case.id, saved=1) + "#licence")


@bp.route("/cases/<case_id>/lifecycle/licence-conditions/new", methods=["GET", "POST"])
@requires(Permission.PLAN_WRITE)
def new_condition(case_id: str):
    c, form = ctx(), request.form
    case = get_case(c, case_id)
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        errors = _saved(lambda: licence.record_condition(c, case.id, _terms(form)))
        if not errors:
            return _licence_page(case)
    labels = plan_labels(c, case, REFUSAL)
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


def _date_fields(day: date | None, name: str) -> list[tuple[str, str]]:
    if day is None:
        return []
    return [(f"{name}-{part}", str(getattr(day, part))) for part in ("day", "month", "year")]


# Change: a variation (new type, dates or details); End: an end date. Each with a reason, as a
# new version superseding the current one, which is kept.
SAVE_VERSION = {
    "change": lambda c, case, cid, form: licence.vary_condition(
        c, case.id, cid, _terms(form), form.get("reason", "")
    ),
    "end": lambda c, case, cid, form: licence.end_condition(
        c, case.id, cid, form_date(form, "ends_on", "end date"), form.get("reason", "")
    ),
}


@bp.route(
    "/cases/<case_id>/lifecycle/licence-conditions/<condition_id>/<any(change, end):action>",
    methods=["GET", "POST"],
)
@requires(Permission.PLAN_WRITE)
def condition_version(case_id: str, condition_id: str, action: str):
    """The Change and End forms: on POST a new version (or the error summary, with nothing
    written); otherwise the form, under the current version it replaces."""
    c = ctx()
    form: MultiDict[str, str] = request.form
    case = get_case(c, case_id)
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        errors = _saved(lambda: SAVE_VERSION[action](c, case, condition_id, form))
        if not errors:
            return _licence_page(case)
    current = licence.condition_to_change(c, case, condition_id)  # read after any rollback
    if request.method == "GET":  # start from the current version
        form = MultiDict(
            [("condition_type", str(current.condition_type)), ("details", current.details)]
            + _date_fields(current.starts_on, "starts_on")
            + _date_fields(current.ends_on, "ends_on")
        )
    return render(
        f"lifecycle/licence_{action}.html",
        current.label.classification.marking,
        case=case,
        condition=current,
        errors=errors,
        form=form,
        types=[(t.value, t.title) for t in licence.ConditionType],
        status=400 if errors else 200,
    )
