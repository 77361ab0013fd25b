"""MAPPA decision log pages: meetings, disclosures, decisions (check, then sign), actions, exports.

Views parse the form, call one service and render; services decide, audit and validate.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time

from flask import Blueprint, Response, g, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.services import get_case
from ..casework import OS, SECRET, case_facts
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Caveat, Classification
from ..mappa import exports
from ..mappa import services as mappa
from ..mappa.common import conceal
from ..mappa.meetings import may_correct, may_supersede
from ..mappa.reading import readable_labels
from ..web.forms import form_date
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx

bp = Blueprint("mappa", __name__, template_folder="templates")
MAX_ACTIONS = 3

# The field each service error belongs to (InvalidValue.kind -> form field id).
FIELDS = {
    "meeting": "meeting_id",
    "disclosures": "disclosures",
    "decision": "decision",
    "rationale": "rationale",
    "options considered": "options",
    "MAPPA level": "level",
    "rationale for the MAPPA level": "level_rationale",
    "label": "classification",
    "caveats": "caveats",
    "classification": "classification",
    "reason for correction": "reason",
    "confirmation": "decision",
    "meeting type": "meeting_type",
    "meeting date": "held_on-day",
    "chair": "chair_id",
    "co-chair": "co_chair_id",
    "open-part minutes": "open_minutes",
    "closed-part minutes": "closed_minutes",
    "attendees": "attendees",
    "originator": "originator",
    "originator's reference": "originator_reference",
    "person who received it": "received_by_id",
    "date received": "received_on-day",
    "action status": "status",
    "note": "note",
    "next review date": "next_review-day",
    "closed-part attendance": "attendees",
    "reason": "reason",
}


def _errors(exc: InvalidValue) -> list[dict[str, str]]:
    kind = exc.kind
    field = FIELDS.get(kind)
    if field is None and kind.startswith("action "):
        n = kind.split()[1]
        rest = kind.split(" ", 2)[2] if len(kind.split(" ", 2)) > 2 else "description"
        part = {
            "description": "description",
            "owner": "owner",
            "due date": "due-day",
            "break-out text": "breakout",
            "break-out label": "breakout_label",
            "break-out consent": "consent_from",
        }.get(rest, "description")
        field = f"action{n}_{part}"
    message = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
    why = getattr(exc, "why", "") or ""
    if why:
        message = f"{kind[:1].upper() + kind[1:]}: {why}"
    return [{"text": message, "href": f"#{field or 'main-content'}"}]


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


# -- case overview ---------------------------------------------------------------------------------
@bp.route("/cases/<case_id>/mappa")
@requires(Permission.MEETING_READ)
def case_page(case_id: str):
    c = ctx()
    case = get_case(c, case_id)
    meetings = mappa.meetings_for_case(c, case.id)
    corridor = c.access.decide(
        c.session, c.subject, _facts(c, case, Kind.DECISION), Act.READ
    ).allowed
    # the team and panel read ordinary decisions; SECRET ones and disclosures stay in the corridor
    can_read_decisions = bool(readable_labels(c, case, Kind.DECISION))
    decisions = _decisions_shown(c, case) if can_read_decisions else []
    disclosures = mappa.disclosures_for_case(c, case.id) if corridor else []
    labels = [
        "OFFICIAL-SENSITIVE" if meetings else None,
        *[d.label.classification.marking for d in decisions],
        *[d.label.classification.marking for d in disclosures],
    ]
    return render(
        "mappa/case.html",
        *labels,
        case=case,
        meetings=meetings,
        decisions=decisions,
        disclosures=disclosures,
        corridor=corridor,
        can_read_decisions=can_read_decisions,
        can_record=corridor and mappa.may_record(c, case),
        can_export=corridor and exports.may_export_decisions(c, case),
        can_meet=c.access.decide(
            c.session, c.subject, _facts(c, case, Kind.MEETING_OPEN), Act.WRITE
        ).allowed,
    )


def _decisions_shown(c, case) -> list:
    """The log as this reader may see it; one of only withheld decisions shows as empty."""
    try:
        return mappa.decision_log(c, case.id)
    except NotFound:
        return []


def ctx_case(c, case_id):
    """The action's case, named on its page when the reader may open the case."""
    try:
        return get_case(c, case_id)
    except NotFound:
        return None


def _facts(c, case, kind: Kind, label: Classification = SECRET):
    label = OS if kind is Kind.MEETING_OPEN else label
    return case_facts(c, case, kind, label)


# -- meetings --------------------------------------------------------------------------------------
@bp.route("/cases/<case_id>/mappa/meetings/new", methods=["GET", "POST"])
@requires(Permission.MEETING_WRITE)
def new_meeting(case_id: str):
    c = ctx()
    case = get_case(c, case_id)
    errors: list[dict[str, str]] = []
    form = request.form
    if request.method == "POST":
        try:
            meeting = mappa.record_meeting(c, case.id, _meeting_data(c, case, form))
        except InvalidValue as exc:
            rollback()
            errors = _errors(exc)
        else:
            return redirect(url_for("mappa.meeting", meeting_id=meeting.id))
    return _meeting_form(c, case, form, errors)


def _meeting_data(c, case, form) -> mappa.NewMeeting:
    attendees = [
        mappa.Attendee(
            p.agency,
            p.role,
            name=p.display_name,
            user_id=p.id,
            closed_part=form.get(f"closed_{p.id}") == "y",
        )
        for p in mappa.people_of_case(c, case)
        if form.get(f"attended_{p.id}") == "y"
    ]
    return mappa.NewMeeting(
        form.get("meeting_type", ""),
        form_date(form, "held_on", "held on"),
        _uuid(form.get("chair_id")),
        _uuid(form.get("co_chair_id")),
        attendees,
        form.get("open_minutes", ""),
        form.get("closed_minutes", ""),
        form_date(form, "next_review", "next review"),
    )


def _meeting_form(c, case, form, errors, old=None):
    people = mappa.people_of_case(c, case)
    closed_ok = c.access.decide(
        c.session, c.subject, _facts(c, case, Kind.MEETING_CLOSED), Act.WRITE
    ).allowed
    return render(
        "mappa/meeting_form.html",
        "SECRET" if form.get("closed_minutes") else "OFFICIAL-SENSITIVE",
        case=case,
        people=people,
        errors=errors,
        form=form,
        types=list(mappa.MeetingType),
        closed_ok=closed_ok,
        old=old,
        status=400 if errors else 200,
    )


@bp.route("/mappa/meetings/<meeting_id>/correct", methods=["GET", "POST"])
@requires(Permission.MEETING_WRITE)
def correct_meeting(meeting_id: str):
    """A corrected meeting, pre-filled from the one it supersedes (which stays, marked)."""
    c = ctx()
    old = mappa.meeting_view(c, meeting_id)  # refused as if absent when unreadable
    case = get_case(c, old.case_id)
    if not may_correct(c, case):  # a correction replaces every part, the closed one included
        raise NotPermitted("You may not correct this meeting.")
    errors: list[dict[str, str]] = []
    form = request.form if request.method == "POST" else _meeting_prefill(old)
    if request.method == "POST":
        try:
            new = mappa.correct_meeting(
                c, old.id, _meeting_data(c, case, form), form.get("reason", "")
            )
        except InvalidValue as exc:
            rollback()
            errors = _errors(exc)
        else:
            return redirect(url_for("mappa.meeting", meeting_id=new.id, saved="1"))
    return _meeting_form(c, case, form, errors, old)


@bp.route("/mappa/meetings/<meeting_id>/withdraw", methods=["POST"])
@requires(Permission.MEETING_WRITE)
def withdraw_meeting(meeting_id: str):
    c = ctx()
    try:
        mappa.withdraw_meeting(c, meeting_id, request.form.get("reason", ""))
    except InvalidValue as exc:
        rollback()
        view = mappa.meeting_view(c, meeting_id)
        case = get_case(c, view.case_id)
        return render(
            "mappa/meeting.html",
            "OFFICIAL-SENSITIVE",
            "SECRET" if view.closed_minutes else None,
            case=case,
            meeting=view,
            caps=exports.export_caps(c, case),
            can_supersede=True,
            can_correct=may_correct(c, case),
            errors=[{"text": f"Reason: {exc.why}", "href": "#withdraw-reason"}],
            status=400,
        )
    return redirect(url_for("mappa.meeting", meeting_id=meeting_id, saved="1"))


def _meeting_prefill(old) -> MultiDict[str, str]:
    data: MultiDict[str, str] = MultiDict(
        {
            "meeting_type": old.meeting_type.value,
            "chair_id": str(old.chair_id or ""),
            "co_chair_id": str(old.co_chair_id or ""),
            "open_minutes": old.open_minutes,
            "closed_minutes": old.closed_minutes or "",
        }
    )
    for prefix, day in (("held_on", old.held_on), ("next_review", old.next_review)):
        if day is not None:
            parts = (day.day, day.month, day.year)
            for part, value in zip(("day", "month", "year"), parts, strict=True):
                data[f"{prefix}-{part}"] = str(value)
    for a in old.attendees:
        if a.user_id is not None:
            data[f"attended_{a.user_id}"] = "y"
            if a.closed_part:
                data[f"closed_{a.user_id}"] = "y"
    return data


@bp.route("/mappa/meetings/<meeting_id>")
@requires(Permission.MEETING_READ)
def meeting(meeting_id: str):
    c = ctx()
    view = mappa.meeting_view(c, meeting_id)
    case = get_case(c, view.case_id)
    return render(
        "mappa/meeting.html",
        "OFFICIAL-SENSITIVE",
        "SECRET" if view.closed_minutes else None,
        case=case,
        meeting=view,
        caps=exports.export_caps(c, case),
        can_supersede=may_supersede(c, case),
        can_correct=may_correct(c, case),
        errors=[],
    )


@bp.route("/mappa/meetings/<meeting_id>/minutes.<fmt>")
@requires(Permission.MEETING_READ)  # the meeting decides: refused as if absent (mappa/exports.py)
def minutes(meeting_id: str, fmt: str):
    c = ctx()
    if fmt not in ("html", "csv", "pdf"):
        from ..domain.errors import NotFound

        raise NotFound()
    doc = exports.minutes_document(c, meeting_id, request.args.get("cap", "OFFICIAL-SENSITIVE"))
    if fmt == "csv":
        return Response(
            exports.to_csv(doc),
            mimetype="text/csv",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="mappa-minutes-{doc.case_reference}.csv"'
                )
            },
        )
    if fmt == "pdf":  # minutes_document has decided the export and audited it
        return exports.to_pdf_response(doc)
    return Response(exports.to_html(doc, nonce=g.get("csp_nonce", "")), mimetype="text/html")


# -- disclosures -----------------------------------------------------------------------------------
@bp.route("/cases/<case_id>/mappa/disclosures/new", methods=["GET", "POST"])
@requires(Permission.CASE_READ)  # the case decides, below: refused as if absent
def new_disclosure(case_id: str):
    c = ctx()
    case = _writable(c, case_id, Kind.DISCLOSURE, "mappa.disclosure.record", "disclosure")
    errors: list[dict[str, str]] = []
    form = request.form
    if request.method == "POST":
        try:
            received_on = form_date(form, "received_on", "received on")
            received_at = datetime.combine(received_on, time(12, 0), UTC) if received_on else None
            if received_on == c.today:
                received_at = datetime.now(UTC)
            row = mappa.record_disclosure(
                c,
                case.id,
                mappa.NewDisclosure(
                    form.get("originator", ""),
                    form.get("originator_reference", ""),
                    _uuid(form.get("received_by_id")),
                    received_at,
                    form.get("classification") or "SECRET",
                    tuple(form.getlist("caveats")),
                    form.get("handling", ""),
                    form.get("summary", ""),
                    form.get("originator_detail", ""),
                    _uuid(form.get("meeting_id")),
                ),
            )
        except InvalidValue as exc:
            rollback()
            errors = _errors(exc)
        else:
            return redirect(url_for("mappa.case_page", case_id=case.id, saved=row.id))
    people = mappa.people_of_case(c, case)
    meetings = mappa.meetings_for_case(c, case.id)
    return render(
        "mappa/disclosure_form.html",
        "SECRET",
        case=case,
        people=people,
        meetings=meetings,
        form=form,
        errors=errors,
        originators=list(mappa.Originator),
        caveats=[x.value for x in Caveat],
        fresh=request.method == "GET",
        status=400 if errors else 200,
    )


# -- decisions: fill in, check, sign ---------------------------------------------------------------
def _decision_data(form: MultiDict[str, str]) -> mappa.NewDecision:
    actions = []
    for n in range(1, MAX_ACTIONS + 1):
        desc = form.get(f"action{n}_description", "")
        owner = form.get(f"action{n}_owner", "")
        due = form_date(form, f"action{n}_due", f"action{n} due")
        if not (desc.strip() or owner or due):
            continue
        breakout = None
        if form.get(f"action{n}_breakout", "").strip():
            breakout = mappa.NewBreakout(
                form.get(f"action{n}_breakout", ""),
                form.get(f"action{n}_breakout_label") or "OFFICIAL-SENSITIVE",
                form.get(f"action{n}_consent_from", ""),
                form.get(f"action{n}_consent_reference", ""),
                form_date(form, f"action{n}_consent", f"action{n} consent"),
            )
        actions.append(mappa.NewAction(desc, _uuid(owner) if owner else None, due, breakout))
    return mappa.NewDecision(
        _uuid(form.get("meeting_id")),
        [u for u in map(_uuid, form.getlist("disclosures")) if u],
        form.get("decision", ""),
        form.get("rationale", ""),
        form.get("options", ""),
        form.get("level") or None,
        form.get("level_rationale", ""),
        form.get("classification") or "",
        tuple(form.getlist("caveats")),
        actions,
    )


@bp.route("/cases/<case_id>/mappa/decisions/new", methods=["GET", "POST"])
@requires(Permission.CASE_READ)  # the case decides, below: refused as if absent
def new_decision(case_id: str):
    c = ctx()
    case = _writable(c, case_id, Kind.DECISION, "mappa.decision.prepare", "decision")
    return _decision_flow(c, case, None)


@bp.route("/mappa/decisions/<decision_id>/correct", methods=["GET", "POST"])
@requires(Permission.CASE_READ)  # the decision decides: refused as if absent when unreadable
def correct_decision(decision_id: str):
    c = ctx()
    old, _chain = mappa.decision_page(c, decision_id)
    case = get_case(c, old.case_id)
    if not mappa.may_record(c, case):
        raise NotPermitted("You may not correct this decision.")
    return _decision_flow(c, case, old)


def _writable(c, case_id: str, kind: Kind, action: str, what: str):
    """The case, when the user may write `kind` on it at SECRET; otherwise the answer for a
    case that does not exist (the page is for the sterile corridor, which the user may not
    know of). The refusal is audited."""
    case = get_case(c, case_id)
    event = Event(
        action=action,
        object_type=what,
        outcome="deny",
        label=SECRET,
        object_id="",
        case_id=str(case.id),
    )
    conceal(c, case, kind=kind, act=Act.WRITE, event=event)
    return case


def _decision_flow(c, case, old):
    form: MultiDict[str, str] = request.form if request.method == "POST" else _prefill(old)
    step = form.get("step", "")
    errors: list[dict[str, str]] = []
    if request.method == "POST" and step in ("check", "record"):
        try:
            data = _decision_data(form)
            reason = form.get("reason", "")
            prepared = (
                mappa.prepare_correction(c, old.id, data, reason)
                if old is not None
                else mappa.prepare_decision(c, case.id, data)
            )
            if step == "record":
                row = mappa.commit(c, prepared, form.get("confirm", ""))
                return redirect(url_for("mappa.decision", decision_id=row.id, saved="1"))
            hidden = [
                (k, v)
                for k, v in form.items(multi=True)
                if k not in ("csrf_token", "step", "confirm")
            ]
            return render(
                "mappa/confirm.html",
                prepared.label.classification.marking,
                *[d.classification for d in prepared.disclosures],
                case=case,
                p=prepared,
                hidden=hidden,
                old=old,
                action=request.path,
            )
        except InvalidValue as exc:
            rollback()
            errors = _errors(exc)
        except mappa.SigningFailed as exc:
            rollback()
            errors = [{"text": str(exc), "href": "#decision"}]
    meetings = mappa.meetings_for_case(c, case.id)
    disclosures = mappa.disclosures_for_case(c, case.id)
    people = mappa.people_of_case(c, case)
    return render(
        "mappa/decision_form.html",
        "SECRET",
        case=case,
        form=form,
        errors=errors,
        meetings=meetings,
        disclosures=disclosures,
        people=people,
        old=old,
        n_actions=MAX_ACTIONS,
        caveats=[x.value for x in Caveat],
        action=request.path,
        status=400 if errors else 200,
    )


def _prefill(old) -> MultiDict[str, str]:
    if old is None:
        return MultiDict()  # the label follows what the decision rests on (decisions.py)
    data: MultiDict[str, str] = MultiDict(
        {
            "meeting_id": str(old.meeting_id),
            "decision": old.decision,
            "rationale": old.rationale,
            "options": old.options,
            "classification": old.label.classification.marking,
            "level": str(old.level or ""),
            "level_rationale": old.level_rationale,
        }
    )
    for d in old.disclosures:
        data.add("disclosures", str(d.id))
    for cav in old.label.caveats:
        data.add("caveats", cav.value)
    for i, a in enumerate(old.actions[:MAX_ACTIONS], start=1):
        data[f"action{i}_description"] = a.description or ""
        data[f"action{i}_owner"] = str(a.owner_id)
        for part, value in zip(
            ("day", "month", "year"), (a.due_on.day, a.due_on.month, a.due_on.year), strict=True
        ):
            data[f"action{i}_due-{part}"] = str(value)
    return data


@bp.route("/mappa/decisions/<decision_id>")
@requires(Permission.CASE_READ)  # the decision decides: refused as if absent when unreadable
def decision(decision_id: str):
    c = ctx()
    view, chain = mappa.decision_page(c, decision_id)
    case = get_case(c, view.case_id)
    return render(
        "mappa/decision.html",
        *[v.label.classification.marking for v in chain],
        case=case,
        d=view,
        chain=chain,
        can_correct=mappa.may_record(c, case),
    )


@bp.route("/cases/<case_id>/mappa/inspection.json")
@requires(Permission.CASE_READ)  # the case decides (mappa/exports.py): refused as if absent
def inspection(case_id: str):
    c = ctx()
    data = exports.inspection_export(c, case_id)
    return Response(
        json.dumps(data, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="mappa-decisions-{data["case"]}.json"'
        },
    )


# -- actions ---------------------------------------------------------------------------------------
@bp.route("/mappa/actions")
@requires(Permission.SIGNED_IN)
def actions():
    c = ctx()
    mine = mappa.my_actions(c)
    chaired = mappa.chair_actions(c)
    labels = [
        (
            i.action.breakout.label if i.from_breakout and i.action.breakout else i.action.label
        ).classification.marking
        for i in [*mine, *chaired]
    ]
    return render("mappa/actions.html", *labels, mine=mine, chaired=chaired, today=c.today)


@bp.route("/mappa/actions/<action_id>", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def action(action_id: str):
    c = ctx()
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        try:
            mappa.update_action(
                c, action_id, request.form.get("status", ""), request.form.get("note", "")
            )
        except InvalidValue as exc:
            rollback()
            errors = _errors(exc)
        else:
            return redirect(url_for("mappa.action", action_id=action_id, saved="1"))
    view = mappa.action_page(c, action_id)
    labels = [
        view.label.classification.marking if view.description is not None else None,
        view.breakout.label.classification.marking if view.breakout else None,
        "OFFICIAL-SENSITIVE" if view.history else None,
    ]
    return render(
        "mappa/action.html",
        *labels,
        a=view,
        case=ctx_case(c, view.case_id),
        errors=errors,
        today=c.today,
        status=400 if errors else 200,
    )
