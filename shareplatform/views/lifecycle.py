"""Lifecycle pages: where a case stands and what is outstanding, transition checklists, plans.

Views parse the form, call one service and render; services decide, audit and validate.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from ..cases.services import get_case
from ..domain.errors import InvalidValue
from ..lifecycle import services as lc
from ..lifecycle.common import may, readable_records
from ..lifecycle.stages import Enquiry, EnquiryOutcome, Transition
from ..mappa.common import people_of_case
from .permissions import requires
from .rendering import commit, render, rollback
from .shell import ctx

bp = Blueprint("lifecycle", __name__)

FIELDS = {
    "transition": "transition",
    "transition date": "due_on-day",
    "owner": "owner_id",
    "enquiry": "enquiry",
    "outcome": "outcome",
    "enquiry record": "record_id",
    "reason": "reason",
    "next stage": "to_stage",
    "rationale": "rationale",
    "date": "to_stage",
}


def _errors(exc: InvalidValue) -> list[dict[str, str]]:
    why = exc.why or str(exc)
    text = f"{exc.kind[:1].upper()}{exc.kind[1:]}: {why}" if exc.why else why
    return [{"text": text, "href": f"#{FIELDS.get(exc.kind, 'main-content')}"}]


def _date(form: MultiDict[str, str], name: str) -> date | None:
    parts = [form.get(f"{name}-{p}", "").strip() for p in ("day", "month", "year")]
    if not any(parts):
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        raise InvalidValue("transition date", "-".join(parts), why="enter a real date") from None


@bp.route("/cases/<case_id>/lifecycle", methods=["GET", "POST"])
@requires("lifecycle:read")
def case_page(case_id: str):  # type: ignore[no-untyped-def]
    c = ctx()
    case = get_case(c, case_id)
    errors: list[dict[str, str]] = []
    form = request.form
    if request.method == "POST":
        try:
            if form.get("action") == "move":
                lc.move_stage(c, case.id, form.get("to_stage", ""), form.get("rationale", ""))
            else:
                lc.open_checklist(
                    c,
                    case.id,
                    lc.NewChecklist(
                        form.get("transition", ""),
                        _date(form, "due_on"),
                        form.get("owner_id") or None,
                    ),
                )
        except InvalidValue as exc:
            rollback()
            errors = _errors(exc)
        else:
            commit()
            return redirect(url_for("lifecycle.case_page", case_id=case.id, saved=1))
    view = lc.case_lifecycle(c, case.id)
    checklists = lc.checklists_for_case(c, case) if may(c, case, "checklist", "read") else []
    plans = lc.plans_for_case(c, case.id) if may(c, case, "plan", "read") else []
    shares = lc.sharing_log(c, case.id) if may(c, case, "assessment_share", "read") else []
    can_write = may(c, case, "lifecycle", "write")
    can_checklist = may(c, case, "checklist", "write")
    people = people_of_case(c, case) if can_checklist else []
    can_sign = (
        bool(plans)
        and c.subject.role.value == "SOL"
        and may(c, case, "plan", "approve", plans[0].label.classification.marking)
    )
    commit()
    labels = ["OFFICIAL-SENSITIVE", *[p.label.classification.marking for p in plans[:1]]]
    return render(
        "lifecycle/case.html",
        *labels,
        case=case,
        view=view,
        checklists=checklists,
        plan=plans[0] if plans else None,
        shares=shares,
        can_write=can_write,
        can_checklist=can_checklist,
        can_sign=can_sign,
        people=people,
        transitions=list(Transition),
        errors=errors,
        form=form,
        status=400 if errors else 200,
    )


@bp.route("/lifecycle/checklists/<checklist_id>", methods=["GET", "POST"])
@requires("checklist:read")
def checklist(checklist_id: str):  # type: ignore[no-untyped-def]
    c = ctx()
    errors: list[dict[str, str]] = []
    form = request.form
    if request.method == "POST":
        try:
            lc.record_entry(
                c,
                checklist_id,
                lc.NewEntry(
                    form.get("enquiry", ""),
                    form.get("outcome", ""),
                    form.get("record_id") or None,
                    form.get("reason", ""),
                ),
            )
        except InvalidValue as exc:
            rollback()
            errors = _errors(exc)
        else:
            commit()
            return redirect(url_for("lifecycle.checklist", checklist_id=checklist_id, saved=1))
    view, case = _checklist_view(checklist_id)
    enquiry_records = readable_records(c, case, tuple(e.record_type for e in Enquiry))
    can_write = may(c, case, "checklist", "write")
    commit()
    return render(
        "lifecycle/checklist.html",
        "OFFICIAL-SENSITIVE",
        case=case,
        checklist=view,
        errors=errors,
        form=form,
        enquiries=list(Enquiry),
        outcomes=list(EnquiryOutcome),
        records=enquiry_records,
        can_write=can_write,
        status=400 if errors else 200,
    )


def _checklist_view(checklist_id: str):  # type: ignore[no-untyped-def]
    from ..lifecycle.checklists import _checklist

    c = ctx()
    row, case = _checklist(c, checklist_id)
    views = lc.checklists_for_case(c, case)
    return next(v for v in views if v.id == row.id), case


@bp.route("/lifecycle/outstanding")
@requires("checklist:read")
def outstanding():  # type: ignore[no-untyped-def]
    items = lc.outstanding_checklists(ctx())
    commit()
    return render(
        "lifecycle/outstanding.html", "OFFICIAL-SENSITIVE" if items else None, items=items
    )


@bp.route("/lifecycle/plans/<plan_id>/countersign", methods=["POST"])
@requires("plan:approve")
def countersign(plan_id: str):  # type: ignore[no-untyped-def]
    c = ctx()
    row = lc.countersign(c, plan_id)
    from ..lifecycle.models import RiskPlan

    plan = c.session.get(RiskPlan, row.plan_id)
    commit()
    return redirect(url_for("lifecycle.case_page", case_id=plan.case_id, saved=1))  # type: ignore[union-attr]
