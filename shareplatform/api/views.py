"""API endpoints: parse, call the same service as the web form, dump. Nothing else happens here."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from flask import g, url_for

from ..access.vocabulary import Permission
from ..accounts import tokens as token_service
from ..accounts.models import User
from ..cases import services as cases
from ..records import services as records
from ..records.services import NewRecord, Notice, RecordView
from . import Blueprint, guard
from . import schemas as s
from .tokens import api_ctx, needs

account = guard(
    Blueprint("api-account", __name__, url_prefix="/api/v1", description="You and your API tokens")
)
case_blp = guard(
    Blueprint("api-cases", __name__, url_prefix="/api/v1", description="Caseload, search and cases")
)
mappa_blp = guard(
    Blueprint(
        "api-mappa",
        __name__,
        url_prefix="/api/v1",
        description="MAPPA meetings, disclosures, decisions and actions",
    )
)
record_blp = guard(
    Blueprint(
        "api-records", __name__, url_prefix="/api/v1", description="Records and their history"
    )
)
BLUEPRINTS = [account, case_blp, record_blp, mappa_blp]


# -- read models to JSON-ready dicts ----------------------------------------------------------
def _summary(c: cases.CaseSummary) -> dict[str, Any]:
    out = asdict(c)
    out["next_key_date"] = (
        {"name": c.next_key_date[0], "date": c.next_key_date[1]} if c.next_key_date else None
    )
    return out


def _nominal(n: cases.NominalDetails) -> dict[str, Any]:
    from ..domain.labels import Label

    out = asdict(n)
    out["label"] = s.label_dict(Label.of(n.label))
    return out


def _record(v: RecordView) -> dict[str, Any]:
    return {
        "id": v.id,
        "case_id": v.case_id,
        "record_type": v.record_type.value,
        "agency": v.agency,
        "author": v.author,
        "occurred_on": v.occurred_on,
        "created_at": v.created_at,
        "label": s.label_dict(v.label),
        "title": v.title,
        "body": v.body,
        "attendees": v.attendees,
        "supersedes_id": v.supersedes_id,
        "superseded_by": v.superseded_by,
        "correction_reason": v.correction_reason,
    }


def _item(item: RecordView | Notice) -> dict[str, Any]:
    if isinstance(item, Notice):
        return {
            "withheld": True,
            "occurred_on": item.occurred_on,
            "notice": item.text,
            "record": None,
        }
    return {
        "withheld": False,
        "occurred_on": item.occurred_on,
        "notice": None,
        "record": _record(item),
    }


def _new_record(data: dict[str, Any]) -> NewRecord:
    return NewRecord(
        data["record_type"],
        data["occurred_on"],
        data["classification"],
        list(data["caveats"]),
        data["title"],
        data["body"],
        list(data["joint_agencies"]),
    )


# -- you and your tokens ----------------------------------------------------------------------
@account.route("/me")
@needs(Permission.SIGNED_IN)
@account.response(200, s.MeSchema)
def me() -> dict[str, Any]:
    """Who the token acts for, with today's clearance."""
    with api_ctx() as ctx:
        sub = ctx.subject
        return {
            "username": sub.username,
            "role": sub.role.value,
            "agency": sub.agency.value,
            "clearance": sub.clearance.marking if sub.clearance else None,
            "in_corridor": sub.in_corridor,
            "token_scope": g.api_auth.scope.value,
        }


@account.route("/tokens")
@needs(Permission.SIGNED_IN)
@account.response(200, s.TokenListSchema)
def my_tokens() -> dict[str, Any]:
    """Your API tokens (never their text)."""
    with api_ctx() as ctx:
        return {"items": token_service.list_tokens(ctx.session, ctx.subject.user_id)}


@account.route("/tokens/<uuid:token_id>", methods=["DELETE"])
@needs(Permission.SIGNED_IN)
@account.response(200, s.TokenSchema)
def revoke_token(token_id: uuid.UUID) -> Any:
    """Revoke one of your tokens (it stops working at once)."""
    with api_ctx() as ctx:
        user = ctx.session.get(User, ctx.subject.user_id)
        assert user is not None
        return token_service.revoke_token(ctx.session, ctx.access, user, token_id)


# -- caseload, search, case -------------------------------------------------------------------
@case_blp.route("/caseload")
@needs(Permission.CASE_READ)
@case_blp.response(200, s.CaseListSchema)
def caseload() -> dict[str, Any]:
    """Cases where you are on the team or the MAPPA panel today."""
    with api_ctx() as ctx:
        return {"items": [_summary(c) for c in cases.caseload(ctx)]}


@case_blp.route("/nominals")
@needs(Permission.NOMINAL_READ)
@case_blp.arguments(s.SearchArgs, location="query")
@case_blp.response(200, s.SearchResultSchema)
def search(args: dict[str, Any]) -> dict[str, Any]:
    """Exact search by name, alias or identifier (blind index); only cases you may see."""
    with api_ctx() as ctx:
        hits = cases.search_nominals(ctx, args["q"])
        return {"items": [{"case": _summary(c), "nominal": _nominal(n)} for c, n in hits]}


@case_blp.route("/cases/<uuid:case_id>")
@needs(Permission.CASE_READ)
@case_blp.response(200, s.CaseDetailSchema)
def case_detail(case_id: uuid.UUID) -> dict[str, Any]:
    """A case with its nominal, team and MAPPA level history."""
    with api_ctx() as ctx:
        view = cases.case_view(ctx, case_id)
        c = view.case
        writable = records.writable_labels(ctx, c)
        return {
            "id": c.id,
            "reference": c.reference,
            "category": c.category,
            "phase": c.phase,
            "lead_agency": c.lead_agency,
            "nsd_unit": c.nsd_unit,
            "ct_unit": c.ct_unit,
            "establishment": c.establishment,
            "mappa_category": c.mappa_category,
            "mappa_level": c.mappa_level,
            "release_date": c.release_date,
            "licence_end": c.licence_end,
            "sentence_end": c.sentence_end,
            "next_review": c.next_review,
            "nominal": _nominal(view.nominal),
            "team": [asdict(m) for m in view.team],
            "mappa_history": [asdict(lv) for lv in view.levels],
            "writable_labels": [w.marking for w in writable],
            "highest": view.highest.marking,
        }


@case_blp.route("/cases/<uuid:case_id>/records")
@needs(Permission.RECORD_READ)
@case_blp.arguments(s.RecordListArgs, location="query")
@case_blp.response(200, s.RecordPageSchema)
def case_records(args: dict[str, Any], case_id: uuid.UUID) -> dict[str, Any]:
    """The case's records you may see, newest first; withheld ones as notices where policy says."""
    page, size = args["page"], args["page_size"]
    with api_ctx() as ctx:
        line = records.timeline(
            ctx,
            case_id,
            record_type=args.get("record_type"),
            agency=args.get("agency"),
            date_from=args.get("date_from"),
            date_to=args.get("date_to"),
            limit=size,
            offset=(page - 1) * size,
        )
        return {
            "items": [_item(i) for i in line.items],
            "page": page,
            "page_size": size,
            "next_page": page + 1 if len(line.items) == size else None,
            "highest": line.highest.marking,
        }


@case_blp.route("/cases/<uuid:case_id>/records", methods=["POST"])
@needs(Permission.RECORD_WRITE)
@case_blp.arguments(s.NewRecordSchema)
@case_blp.response(201, s.RecordSchema)
def create_record(data: dict[str, Any], case_id: uuid.UUID) -> Any:
    """Write a record on the case (read-write token); a label is required, up to your clearance."""
    with api_ctx() as ctx:
        row = records.post_record(ctx, case_id, _new_record(data))
        view, _ = records.record_page(ctx, row.id)
        location = url_for("api-records.get_record", record_id=row.id)
        return _record(view), {"Location": location}


# -- one record -------------------------------------------------------------------------------
@record_blp.route("/records/<uuid:record_id>")
@needs(Permission.RECORD_READ)
@record_blp.response(200, s.RecordSchema)
def get_record(record_id: uuid.UUID) -> dict[str, Any]:
    """One record, if you may read it."""
    with api_ctx() as ctx:
        view, _ = records.record_page(ctx, record_id)
        return _record(view)


@record_blp.route("/records/<uuid:record_id>/history")
@needs(Permission.RECORD_READ)
@record_blp.response(200, s.RecordHistorySchema)
def record_history(record_id: uuid.UUID) -> dict[str, Any]:
    """A record's supersession history: the versions you may read, oldest first."""
    with api_ctx() as ctx:
        view, versions = records.record_page(ctx, record_id)
        return {"record": _record(view), "versions": [_record(v) for v in versions]}


@record_blp.route("/records/<uuid:record_id>/corrections", methods=["POST"])
@needs(Permission.RECORD_WRITE)
@record_blp.arguments(s.CorrectionSchema)
@record_blp.response(201, s.RecordSchema)
def correct(data: dict[str, Any], record_id: uuid.UUID) -> Any:
    """Correct a record: a new version supersedes it, with a reason (409 if already corrected)."""
    with api_ctx() as ctx:
        row = records.correct_record(ctx, record_id, _new_record(data), data["reason"])
        view, _ = records.record_page(ctx, row.id)
        return _record(view), {"Location": url_for("api-records.get_record", record_id=row.id)}


# -- MAPPA (the decision log's services in shareplatform/mappa) --------------------------------
@mappa_blp.route("/actions")
@needs(Permission.SIGNED_IN)
@mappa_blp.response(200, s.ActionListSchema)
def my_actions() -> dict[str, Any]:
    """Open MAPPA actions you own: the action itself, or only its sanitised break-out."""
    from ..mappa.actions import my_actions as owned

    with api_ctx() as ctx:
        items = owned(ctx)
        return {
            "items": [
                {
                    "id": i.action.id,
                    "decision_id": None if i.from_breakout else i.action.decision_id,
                    "case_id": i.case_id,
                    "case_reference": i.case_reference,
                    "owner": i.action.owner,
                    "owner_agency": i.action.owner_agency,
                    "due_on": i.action.due_on,
                    "label": s.label_dict(
                        i.action.breakout.label
                        if i.from_breakout and i.action.breakout
                        else i.action.label
                    ),
                    "text": i.text,
                    "from_breakout": i.from_breakout,
                    "status": i.action.status.value,
                    "overdue": i.overdue,
                    "due_soon": i.due_soon,
                }
                for i in items
            ]
        }


@mappa_blp.route("/cases/<uuid:case_id>/decisions")
@needs(Permission.DECISION_READ)
@mappa_blp.response(200, s.DecisionListSchema)
def decisions(case_id: uuid.UUID) -> dict[str, Any]:
    """The case's MAPPA decision log (sterile corridor only), newest first, corrections flagged."""
    from ..mappa.reading import decision_log

    with api_ctx() as ctx:
        return {
            "items": [
                {
                    "id": d.id,
                    "case_id": d.case_id,
                    "meeting_id": d.meeting_id,
                    "meeting_title": d.meeting_title,
                    "label": s.label_dict(d.label),
                    "decision": d.decision,
                    "rationale": d.rationale,
                    "options": d.options,
                    "decided_by": d.decided_by,
                    "agreed_by": d.agreed_by,
                    "created_at": d.created_at,
                    "supersedes_id": d.supersedes_id,
                    "superseded_by_id": d.superseded_by_id,
                    "correction_reason": d.correction_reason,
                    "verified": d.verified,
                }
                for d in decision_log(ctx, case_id)
            ]
        }


def _meeting(m: Any) -> dict[str, Any]:
    return {
        "id": m.id,
        "case_id": m.case_id,
        "meeting_type": m.meeting_type.value,
        "title": m.meeting_type.title,
        "held_on": m.held_on,
        "chair": m.chair,
        "co_chair": m.co_chair,
        "next_review": m.next_review,
        "open_minutes": m.open_minutes,
        "attendees": [asdict(a) for a in m.attendees],
        "closed_minutes": m.closed_minutes,
        "decisions": m.decisions,
        "highest": "SECRET" if m.closed_minutes is not None else "OFFICIAL-SENSITIVE",
    }


@mappa_blp.route("/cases/<uuid:case_id>/meetings")
@needs(Permission.MEETING_READ)
@mappa_blp.response(200, s.MeetingListSchema)
def meetings(case_id: uuid.UUID) -> dict[str, Any]:
    """The case's MAPPA meetings and open-part minutes (team, panel and oversight), newest first."""
    from ..mappa.services import meetings_for_case

    with api_ctx() as ctx:
        return {"items": [_meeting(m) for m in meetings_for_case(ctx, case_id)]}


@mappa_blp.route("/meetings/<uuid:meeting_id>")
@needs(Permission.MEETING_READ)
@mappa_blp.response(200, s.MeetingSchema)
def meeting(meeting_id: uuid.UUID) -> dict[str, Any]:
    """One meeting; its SECRET closed-part minutes only for the corridor on the panel."""
    from ..mappa.services import meeting_view

    with api_ctx() as ctx:
        return _meeting(meeting_view(ctx, meeting_id))


@mappa_blp.route("/cases/<uuid:case_id>/disclosures")
@needs(Permission.DISCLOSURE_READ)
@mappa_blp.response(200, s.DisclosureListSchema)
def disclosures(case_id: uuid.UUID) -> dict[str, Any]:
    """Disclosures of secret material to the case's panel (sterile corridor only), newest first."""
    from ..mappa.services import disclosures_for_case

    with api_ctx() as ctx:
        return {
            "items": [
                {
                    "id": d.id,
                    "case_id": d.case_id,
                    "meeting_id": d.meeting_id,
                    "originator": d.originator.value,
                    "originator_title": d.originator_title,
                    "reference": d.reference,
                    "received_by": d.received_by,
                    "received_at": d.received_at,
                    "label": s.label_dict(d.label),
                    "handling": d.handling,
                    "summary": d.summary,
                }
                for d in disclosures_for_case(ctx, case_id)
            ]
        }
