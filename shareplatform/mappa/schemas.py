"""API schemas of MAPPA meetings, disclosures, decisions and actions."""

from __future__ import annotations

from marshmallow import Schema, fields

from ..web.schemas import LabelSchema


class ActionItemSchema(Schema):
    id = fields.UUID(required=True)
    decision_id = fields.UUID(
        required=True, allow_none=True
    )  # none for a break-out: the decision stays in the corridor
    case_id = fields.UUID(required=True)
    case_reference = fields.String(required=True)
    owner = fields.String(required=True)
    owner_agency = fields.String(required=True)
    due_on = fields.Date(required=True)
    label = fields.Nested(LabelSchema, required=True)
    text = fields.String(
        required=True, metadata={"description": "The action, or only its sanitised break-out"}
    )
    from_breakout = fields.Boolean(required=True)
    status = fields.String(required=True)
    overdue = fields.Boolean(required=True)
    due_soon = fields.Boolean(required=True)


class ActionListSchema(Schema):
    items = fields.List(fields.Nested(ActionItemSchema), required=True)


class StatusStepSchema(Schema):
    status = fields.String(
        required=True, metadata={"description": "OPEN, IN_PROGRESS, DONE or CANCELLED"}
    )
    from_status = fields.String(
        allow_none=True, required=True, metadata={"description": "None for the first step"}
    )
    at = fields.DateTime(required=True)
    by = fields.String(required=True)
    note = fields.String(required=True)


class DecisionActionSchema(Schema):
    id = fields.UUID(required=True)
    owner = fields.String(required=True)
    owner_agency = fields.String(required=True)
    due_on = fields.Date(required=True)
    label = fields.Nested(LabelSchema, required=True)
    description = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "None when the reader may see only the break-out"},
    )
    status = fields.String(required=True)
    history = fields.List(fields.Nested(StatusStepSchema), required=True)


class DecisionSchema(Schema):
    id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    meeting_id = fields.UUID(required=True)
    meeting_title = fields.String(required=True)
    label = fields.Nested(LabelSchema, required=True)
    decision = fields.String(required=True)
    rationale = fields.String(required=True)
    options = fields.String(required=True)
    decided_by = fields.String(required=True)
    agreed_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    supersedes_id = fields.UUID(allow_none=True, required=True)
    superseded_by_id = fields.UUID(allow_none=True, required=True)
    correction_reason = fields.String(required=True)
    disclosure_ids = fields.List(
        fields.UUID(),
        required=True,
        metadata={
            "description": "The disclosures it rests on (none for an ordinary MAPPA or core-group "
            "decision, which is OFFICIAL or OFFICIAL-SENSITIVE)"
        },
    )
    actions = fields.List(fields.Nested(DecisionActionSchema), required=True)
    verified = fields.Boolean(
        required=True, metadata={"description": "Signature and content hash check out"}
    )


class DecisionListSchema(Schema):
    items = fields.List(fields.Nested(DecisionSchema), required=True)


class AttendeeSchema(Schema):
    agency = fields.String(required=True)
    role = fields.String(required=True)
    name = fields.String(required=True)
    closed_part = fields.Boolean(
        required=True, metadata={"description": "Sat in the closed part (shown to corridor only)"}
    )


class MeetingSchema(Schema):
    id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    meeting_type = fields.String(required=True)
    title = fields.String(required=True)
    held_on = fields.Date(required=True)
    chair = fields.String(required=True)
    co_chair = fields.String(required=True)
    next_review = fields.Date(allow_none=True, required=True)
    open_minutes = fields.String(required=True)
    attendees = fields.List(fields.Nested(AttendeeSchema), required=True)
    closed_minutes = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "SECRET closed part: only on one meeting, only for the corridor"},
    )
    decisions = fields.List(
        fields.UUID(),
        required=True,
        metadata={"description": "Decisions taken at the meeting (corridor panel only)"},
    )
    superseded_by = fields.UUID(
        allow_none=True, required=True, metadata={"description": "The correcting meeting, if any"}
    )
    withdrawn = fields.Boolean(required=True)
    superseded_reason = fields.String(
        required=True, metadata={"description": "Why it was corrected or withdrawn"}
    )
    corrects = fields.UUID(
        allow_none=True, required=True, metadata={"description": "The meeting this one corrects"}
    )
    integrity = fields.String(
        required=True,
        metadata={
            "description": "Empty, or why the record is not verified (a correction or "
            "withdrawal naming it failed its integrity check)"
        },
    )
    highest = fields.String(required=True, metadata={"description": "Highest classification shown"})


class MeetingListSchema(Schema):
    items = fields.List(fields.Nested(MeetingSchema), required=True)


class DisclosureSchema(Schema):
    id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    meeting_id = fields.UUID(allow_none=True, required=True)
    originator = fields.String(required=True)
    originator_title = fields.String(required=True)
    reference = fields.String(required=True, metadata={"description": "The originator's reference"})
    received_by = fields.String(required=True)
    received_at = fields.DateTime(required=True)
    label = fields.Nested(LabelSchema, required=True)
    handling = fields.String(required=True)
    summary = fields.String(required=True)


class DisclosureListSchema(Schema):
    items = fields.List(fields.Nested(DisclosureSchema), required=True)
