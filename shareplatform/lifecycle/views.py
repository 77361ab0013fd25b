"""Lifecycle pages: where a case stands and what is outstanding, transition checklists, plans.

Views parse the form, call one service and render; services decide, audit and validate.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from ..access.vocabulary import Act, Kind
from ..cases.models import Case
from ..cases.services import get_case
from ..context import Ctx
from ..domain.agencies import Role
from ..domain.cases import RecordType
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Caveat, Classification
from ..lifecycle import handover, licence
from ..lifecycle import services as lc
from ..lifecycle.common import OS, may, readable_records
from ..lifecycle.plans import ENQUIRY_TYPES, HEADINGS
from ..lifecycle.stages import (
    PLAN_BASIS_TYPES,
    SHAREABLE,
    Enquiry,
    EnquiryOutcome,
    Risk,
    Step,
    Transition,
    TriageOutcome,
    TriageReason,
)
from ..mappa.common import people_of_case
from ..records.models import Record
from ..web.forms import error_summary, form_date
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx

bp = Blueprint("lifecycle", __name__, template_folder="templates")

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


@bp.route("/cases/<case_id>/lifecycle", methods=["GET", "POST"])
@requires(Permission.LIFECYCLE_READ)
def case_page(case_id: str):
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
                        form_date(form, "due_on", "transition date"),
                        form.get("owner_id") or None,
                    ),
                )
        except InvalidValue as exc:
            rollback()
            errors = error_summary(exc, FIELDS)
        else:
            return redirect(url_for("lifecycle.case_page", case_id=case.id, saved=1))
    view = lc.case_lifecycle(c, case.id)
    checklists = (
        lc.checklists_for_case(c, case) if may(c, case, kind=Kind.CHECKLIST, act=Act.READ) else []
    )
    plans = lc.plans_for_case(c, case.id) if may(c, case, kind=Kind.PLAN, act=Act.READ) else []
    shares = (
        lc.sharing_log(c, case.id) if may(c, case, kind=Kind.ASSESSMENT_SHARE, act=Act.READ) else []
    )
    can_write = may(c, case, kind=Kind.LIFECYCLE, act=Act.WRITE)
    can_checklist = may(c, case, kind=Kind.CHECKLIST, act=Act.WRITE)
    people = people_of_case(c, case) if can_checklist else []
    can_sign = (
        bool(plans)
        and c.subject.role.value == "SOL"
        and may(
            c,
            case,
            kind=Kind.PLAN,
            act=Act.APPROVE,
            label=Classification.parse(plans[0].label.classification.marking),
        )
    )
    can_plan = may(c, case, kind=Kind.PLAN, act=Act.READ)
    conditions = licence.conditions_for_case(c, case) if can_plan else []
    labels = [
        "OFFICIAL-SENSITIVE",
        *[p.label.classification.marking for p in plans[:1]],
        *[x.label.classification.marking for x in conditions],
    ]
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
        handover=handover.handover_for_case(c, case),
        licence_conditions=conditions,
        can_add_condition=may(c, case, kind=Kind.PLAN, act=Act.WRITE),
        changeable=writable_plan_labels(c, case) if conditions else [],
        transitions=list(Transition),
        errors=errors,
        form=form,
        status=400 if errors else 200,
    )


@bp.route("/lifecycle/checklists/<checklist_id>", methods=["GET", "POST"])
@requires(Permission.CHECKLIST_READ)
def checklist(checklist_id: str):
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
            errors = error_summary(exc, FIELDS)
        else:
            return redirect(url_for("lifecycle.checklist", checklist_id=checklist_id, saved=1))
    view, case = _checklist_view(checklist_id)
    enquiry_records = readable_records(c, case, tuple(e.record_type for e in Enquiry))
    can_write = may(c, case, kind=Kind.CHECKLIST, act=Act.WRITE)
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


def _checklist_view(checklist_id: str):
    from ..lifecycle.checklists import _checklist

    c = ctx()
    row, case = _checklist(c, checklist_id)
    views = lc.checklists_for_case(c, case)
    return next(v for v in views if v.id == row.id), case


@bp.route("/lifecycle/outstanding")
@requires(Permission.CHECKLIST_READ)
def outstanding():
    items = lc.outstanding_checklists(ctx())
    return render(
        "lifecycle/outstanding.html", "OFFICIAL-SENSITIVE" if items else None, items=items
    )


@bp.route("/lifecycle/plans/<plan_id>/countersign", methods=["POST"])
@requires(Permission.PLAN_APPROVE)
def countersign(plan_id: str):
    c = ctx()
    row = lc.countersign(c, plan_id)
    from ..lifecycle.models import RiskPlan

    plan = c.session.get(RiskPlan, row.plan_id)
    return redirect(url_for("lifecycle.case_page", case_id=plan.case_id, saved=1))  # type: ignore[union-attr]


# -- forms for the remaining lifecycle services: plan version, step, triage, assessment sharing --
PLAN_FIELDS = {
    "supervision": "supervision",
    "monitoring and control": "monitoring",
    "interventions and treatment": "interventions",
    "victim safety planning": "victim_safety",
    "contingency plan": "contingency",
    "licence conditions": "licence_conditions",
    "risks covered": "covers",
    "risk covered": "covers",
    "assessments": "basis",
    "classification": "classification",
    "caveat": "caveats",
}
STEP_FIELDS = {
    "step": "step",
    "date": "occurred_on-day",
    "value": "value",
    "CIM version": "value",
    "CIM level": "value",
    "RTOAF form version": "value",
    "handover route": "value",
    "note": "note",
    "record": "record_id",
}
TRIAGE_FIELDS = {
    "date": "triage_on-day",
    "note": "triage_note",
    "rationale": "triage_note",
    "triage outcome": "outcome",
    "triage rationale code": "reason_code",
    "triage": "main-content",
}
SHARE_FIELDS = {"recipient": "recipient_id", "assessment": "record_id"}


def writable_plan_labels(c: Ctx, case: Case) -> list[str]:
    """The markings the user may write the case's plan (and licence conditions) at."""
    return [
        m
        for m in Classification.markings()
        if may(c, case, kind=Kind.PLAN, act=Act.WRITE, label=Classification.parse(m))
    ]


def plan_labels(c: Ctx, case: Case, refusal: str) -> list[str]:
    """writable_plan_labels, or NotPermitted with `refusal` when there are none."""
    labels = writable_plan_labels(c, case)
    if not labels:
        raise NotPermitted(refusal)
    return labels


def _options(records: list[Record]) -> list[tuple[str, str]]:
    return [
        (str(r.id), f"{RecordType(r.record_type).title} of {r.occurred_on.strftime('%-d %B %Y')}")
        for r in records
    ]


@bp.route("/cases/<case_id>/lifecycle/plan/new", methods=["GET", "POST"])
@requires(Permission.PLAN_WRITE)
def new_plan(case_id: str):
    c = ctx()
    case = get_case(c, case_id)
    errors: list[dict[str, str]] = []
    form: MultiDict[str, str] = request.form
    if request.method == "POST":
        try:
            lc.record_plan(
                c,
                case.id,
                lc.NewPlan(
                    supervision=form.get("supervision", ""),
                    monitoring=form.get("monitoring", ""),
                    interventions=form.get("interventions", ""),
                    victim_safety=form.get("victim_safety", ""),
                    contingency=form.get("contingency", ""),
                    covers=form.getlist("covers"),
                    basis=list(form.getlist("basis")),
                    licence_conditions=form.get("licence_conditions", ""),
                    classification=form.get("classification", ""),
                    caveats=tuple(form.getlist("caveats")),
                ),
            )
        except (InvalidValue, NotPermitted) as exc:  # nothing half-written
            rollback()
            errors = error_summary(exc, PLAN_FIELDS)
        else:
            return redirect(url_for("lifecycle.case_page", case_id=case.id, saved=1) + "#plan")
    labels = plan_labels(c, case, "Only the case team and its managers may write the plan.")
    basis = readable_records(c, case, PLAN_BASIS_TYPES + ENQUIRY_TYPES)
    latest = lc.plans_for_case(c, case.id)[:1] if may(c, case, kind=Kind.PLAN, act=Act.READ) else []
    if request.method == "GET" and latest:  # start from the current version
        p = latest[0]
        form = MultiDict(
            [*p.text.items(), ("licence_conditions", p.licence_conditions)]
            + [("covers", r.value) for r in p.covers]
            + [("classification", p.label.classification.marking)]
            + [("caveats", cv.value) for cv in p.label.caveats]
        )
    elif request.method == "GET":
        form = MultiDict([("classification", OS.marking)])
    typed = form.get("classification") if form.get("classification") in labels else None
    return render(
        "lifecycle/plan_form.html",
        OS,
        typed,
        [r.classification for r in basis],
        [p.label.classification.marking for p in latest],
        case=case,
        errors=errors,
        form=form,
        headings=HEADINGS,
        risks=[(r.value, r.title) for r in Risk],
        basis=_options(basis),
        labels=[(m, m) for m in labels],
        caveats=[(cv.value, cv.value) for cv in Caveat],
        version=latest[0].version + 1 if latest else 1,
        status=400 if errors else 200,
    )


@bp.route("/cases/<case_id>/lifecycle/steps", methods=["GET", "POST"])
@requires(Permission.LIFECYCLE_WRITE)
def steps(case_id: str):
    """Record a workflow step, or (managers in the corridor) an NSD triage panel's decision."""
    c = ctx()
    case = get_case(c, case_id)
    errors: list[dict[str, str]] = []
    form = request.form
    if request.method == "POST":
        triage = form.get("action") == "triage"
        try:
            if triage:
                lc.record_triage(
                    c,
                    case.id,
                    form.get("outcome", ""),
                    form.get("reason_code", ""),
                    form_date(form, "triage_on", "date"),
                    form.get("triage_note", ""),
                )
            else:
                lc.record_step(
                    c,
                    case.id,
                    form.get("step", ""),
                    form_date(form, "occurred_on", "date"),
                    form.get("value", ""),
                    form.get("note", ""),
                    form.get("record_id") or None,
                )
        except (InvalidValue, NotPermitted) as exc:
            rollback()
            errors = error_summary(exc, TRIAGE_FIELDS if triage else STEP_FIELDS)
        else:
            return redirect(url_for("lifecycle.steps", case_id=case.id, saved=1))
    if not may(c, case, kind=Kind.LIFECYCLE, act=Act.WRITE):
        raise NotPermitted("Only the case team and its managers may record lifecycle steps.")
    view = lc.case_lifecycle(c, case.id)
    records = readable_records(c, case, tuple(RecordType))
    can_triage = c.subject.in_corridor and case.category != "TERRORIST"
    return render(
        "lifecycle/steps.html",
        OS,
        [r.classification for r in records],
        case=case,
        view=view,
        errors=errors,
        form=form,
        step_options=[(s.value, s.title) for s in Step if s is not Step.NSD_TRIAGE],
        records=_options(records),
        can_triage=can_triage,
        outcomes=[(o.value, o.title) for o in TriageOutcome],
        reasons=[(r.value, r.title) for r in TriageReason],
        status=400 if errors else 200,
    )


@bp.route("/cases/<case_id>/lifecycle/sharing", methods=["GET", "POST"])
@requires(Permission.ASSESSMENT_SHARE_READ)
def sharing(case_id: str):
    """The sharing log of the case's ERG 22+ and PGF assessments, and sharing one with the team."""
    c = ctx()
    case = get_case(c, case_id)
    errors: list[dict[str, str]] = []
    form = request.form
    if request.method == "POST":
        try:
            if not form.get("record_id"):
                raise InvalidValue("assessment", "", why="choose the assessment to share")
            lc.share_assessment(c, form.get("record_id", ""), form.get("recipient_id") or None)
        except (InvalidValue, NotPermitted) as exc:
            rollback()
            errors = error_summary(exc, SHARE_FIELDS)
        except NotFound:  # an assessment that is not on this case, or not yours to read
            rollback()
            errors = [
                {"text": "Assessment: choose an assessment on this case", "href": "#record_id"}
            ]
        else:
            return redirect(url_for("lifecycle.sharing", case_id=case.id, saved=1))
    shares = lc.sharing_log(c, case.id)
    can_share = may(c, case, kind=Kind.ASSESSMENT_SHARE, act=Act.WRITE)
    assessments = readable_records(c, case, SHAREABLE) if can_share else []
    people = people_of_case(c, case) if can_share else []
    return render(
        "lifecycle/sharing.html",
        OS,
        [r.classification for r in assessments],
        case=case,
        shares=shares,
        can_share=can_share,
        assessments=_options(assessments),
        people=[(str(p.id), f"{p.display_name} ({Role.parse(p.role).title})") for p in people],
        errors=errors,
        form=form,
        status=400 if errors else 200,
    )
