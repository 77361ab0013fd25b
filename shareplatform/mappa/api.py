"""The JSON API: MAPPA meetings, disclosures, decisions and your actions."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from ..access.vocabulary import Permission
from ..web.api import Blueprint, guard
from ..web.permissions import requires
from ..web.request import ctx as context
from ..web.schemas import label_dict
from . import schemas as s

mappa_blp = guard(
    Blueprint(
        "api-mappa",
        __name__,
        url_prefix="/api/v1",
        description="MAPPA meetings, disclosures, decisions and actions",
    )
)


# -- MAPPA (the decision log's services in shareplatform/mappa) --------------------------------
@mappa_blp.route("/actions")
@requires(Permission.SIGNED_IN)
@mappa_blp.response(200, s.ActionListSchema)
def my_actions() -> dict[str, Any]:
    """Open MAPPA actions you own: the action itself, or only its sanitised break-out."""
    from ..mappa.actions import my_actions as owned

    ctx = context()
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
                "label": label_dict(
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
@requires(Permission.DECISION_READ)
@mappa_blp.response(200, s.DecisionListSchema)
def decisions(case_id: uuid.UUID) -> dict[str, Any]:
    """The case's MAPPA decisions the reader may see, newest first, corrections flagged: ordinary
    (OFFICIAL, OFFICIAL-SENSITIVE) ones for the case team and panel, SECRET ones for the sterile
    corridor on the panel only."""
    from ..mappa.reading import decision_log

    ctx = context()
    return {
        "items": [
            {
                "id": d.id,
                "case_id": d.case_id,
                "meeting_id": d.meeting_id,
                "meeting_title": d.meeting_title,
                "label": label_dict(d.label),
                "decision": d.decision,
                "rationale": d.rationale,
                "options": d.options,
                "decided_by": d.decided_by,
                "agreed_by": d.agreed_by,
                "created_at": d.created_at,
                "supersedes_id": d.supersedes_id,
                "superseded_by_id": d.superseded_by_id,
                "correction_reason": d.correction_reason,
                "disclosure_ids": [x.id for x in d.disclosures],
                "actions": [_action(a) for a in d.actions],
                "verified": d.verified,
            }
            for d in decision_log(ctx, case_id)
        ]
    }


def _action(a: Any) -> dict[str, Any]:
    shown = a.breakout.label if a.description is None and a.breakout else a.label
    return {
        "id": a.id,
        "owner": a.owner,
        "owner_agency": a.owner_agency,
        "due_on": a.due_on,
        "label": label_dict(shown),
        "description": a.description,
        "status": a.status.value,
        "history": [
            {
                "status": h.status.value,
                "from_status": h.from_status.value if h.from_status else None,
                "at": h.at,
                "by": h.by,
                "note": h.note,
            }
            for h in a.history
        ],
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
        "superseded_by": m.superseded_by,
        "withdrawn": m.withdrawn,
        "superseded_reason": m.superseded_reason,
        "corrects": m.corrects,
        "integrity": m.integrity,
        "highest": "SECRET" if m.closed_minutes is not None else "OFFICIAL-SENSITIVE",
    }


@mappa_blp.route("/cases/<uuid:case_id>/meetings")
@requires(Permission.MEETING_READ)
@mappa_blp.response(200, s.MeetingListSchema)
def meetings(case_id: uuid.UUID) -> dict[str, Any]:
    """The case's MAPPA meetings and open-part minutes (team, panel and oversight), newest first."""
    from ..mappa.services import meetings_for_case

    ctx = context()
    return {"items": [_meeting(m) for m in meetings_for_case(ctx, case_id)]}


@mappa_blp.route("/meetings/<uuid:meeting_id>")
@requires(Permission.MEETING_READ)
@mappa_blp.response(200, s.MeetingSchema)
def meeting(meeting_id: uuid.UUID) -> dict[str, Any]:
    """One meeting; its SECRET closed-part minutes only for the corridor on the panel."""
    from ..mappa.services import meeting_view

    ctx = context()
    return _meeting(meeting_view(ctx, meeting_id))


@mappa_blp.route("/cases/<uuid:case_id>/disclosures")
@requires(Permission.DISCLOSURE_READ)
@mappa_blp.response(200, s.DisclosureListSchema)
def disclosures(case_id: uuid.UUID) -> dict[str, Any]:
    """Disclosures of secret material to the case's panel (sterile corridor only), newest first."""
    from ..mappa.services import disclosures_for_case

    ctx = context()
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
                "label": label_dict(d.label),
                "handling": d.handling,
                "summary": d.summary,
            }
            for d in disclosures_for_case(ctx, case_id)
        ]
    }
