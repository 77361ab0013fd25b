"""The JSON API: records on a case, one record, its history and corrections."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from flask import url_for

from ..access.vocabulary import Permission
from ..cases import services as cases
from ..cases.api import nominal_json
from ..cases.schemas import CaseDetailSchema
from ..web.api import Blueprint, guard
from ..web.permissions import requires
from ..web.request import ctx as context
from ..web.schemas import label_dict
from . import schemas as s
from . import services as records
from .services import NewRecord, Notice, RecordView

record_blp = guard(
    Blueprint(
        "api-records", __name__, url_prefix="/api/v1", description="Records and their history"
    )
)


def _record(v: RecordView) -> dict[str, Any]:
    return {
        "id": v.id,
        "case_id": v.case_id,
        "record_type": v.record_type.value,
        "agency": v.agency,
        "author": v.author,
        "occurred_on": v.occurred_on,
        "created_at": v.created_at,
        "label": label_dict(v.label),
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
            "integrity_failure": item.integrity_failure,
            "occurred_on": item.occurred_on,
            "notice": item.text,
            "record": None,
        }
    return {
        "withheld": False,
        "integrity_failure": False,
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


@record_blp.route("/cases/<uuid:case_id>/records")
@requires(Permission.RECORD_READ)
@record_blp.arguments(s.RecordListArgs, location="query")
@record_blp.response(200, s.RecordPageSchema)
def case_records(args: dict[str, Any], case_id: uuid.UUID) -> dict[str, Any]:
    """The case's records you may see, newest first; withheld ones as notices where policy says."""
    page, size = args["page"], args["page_size"]
    ctx = context()
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


@record_blp.route("/cases/<uuid:case_id>/records", methods=["POST"])
@requires(Permission.RECORD_WRITE)
@record_blp.arguments(s.NewRecordSchema)
@record_blp.response(201, s.RecordSchema)
def create_record(data: dict[str, Any], case_id: uuid.UUID) -> Any:
    """Write a record on the case (read-write token); a label is required, up to your clearance."""
    ctx = context()
    row = records.post_record(ctx, case_id, _new_record(data))
    view, _ = records.record_page(ctx, row.id)
    location = url_for("api-records.get_record", record_id=row.id)
    return _record(view), {"Location": location}


# -- one record -------------------------------------------------------------------------------
@record_blp.route("/records/<uuid:record_id>")
@requires(Permission.RECORD_READ)
@record_blp.response(200, s.RecordSchema)
def get_record(record_id: uuid.UUID) -> dict[str, Any]:
    """One record, if you may read it."""
    ctx = context()
    view, _ = records.record_page(ctx, record_id)
    return _record(view)


@record_blp.route("/records/<uuid:record_id>/history")
@requires(Permission.RECORD_READ)
@record_blp.response(200, s.RecordHistorySchema)
def record_history(record_id: uuid.UUID) -> dict[str, Any]:
    """A record's supersession history: the versions you may read, oldest first."""
    ctx = context()
    view, versions = records.record_page(ctx, record_id)
    return {"record": _record(view), "versions": [_record(v) for v in versions]}


@record_blp.route("/records/<uuid:record_id>/corrections", methods=["POST"])
@requires(Permission.RECORD_WRITE)
@record_blp.arguments(s.CorrectionSchema)
@record_blp.response(201, s.RecordSchema)
def correct(data: dict[str, Any], record_id: uuid.UUID) -> Any:
    """Correct a record: a new version supersedes it, with a reason (409 if already corrected)."""
    ctx = context()
    row = records.correct_record(ctx, record_id, _new_record(data), data["reason"])
    view, _ = records.record_page(ctx, row.id)
    return _record(view), {"Location": url_for("api-records.get_record", record_id=row.id)}


@record_blp.route("/cases/<uuid:case_id>")
@requires(Permission.CASE_READ)
@record_blp.response(200, CaseDetailSchema)
def case_detail(case_id: uuid.UUID) -> dict[str, Any]:
    """A case with its nominal, team and MAPPA level history."""
    ctx = context()
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
        "nominal": nominal_json(view.nominal),
        "team": [asdict(m) for m in view.team],
        "mappa_history": [asdict(lv) for lv in view.levels],
        "writable_labels": [w.marking for w in writable],
        "highest": view.highest.marking,
    }
