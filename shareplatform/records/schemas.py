"""API schemas of records: timelines, one record, new records and corrections."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..domain.cases import RecordType
from ..web.schemas import AGENCIES, CAVEATS, CLASSIFICATIONS, LabelSchema, Strict
from .services import MAX_BODY, MAX_TITLE

RECORD_TYPES = [t.value for t in RecordType]
WRITABLE_TYPES = [t.value for t in RecordType.postable()]


class RecordSchema(Schema):
    id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    record_type = fields.String(required=True, metadata={"enum": RECORD_TYPES})
    agency = fields.String(required=True)
    author = fields.String(required=True)
    occurred_on = fields.Date(required=True)
    created_at = fields.DateTime(required=True)
    label = fields.Nested(LabelSchema, required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    attendees = fields.List(fields.String(), required=True)
    supersedes_id = fields.UUID(allow_none=True, required=True)
    superseded_by = fields.UUID(allow_none=True, required=True)
    correction_reason = fields.String(allow_none=True, required=True)


class TimelineItemSchema(Schema):
    withheld = fields.Boolean(
        required=True, metadata={"description": "True: further information is held"}
    )
    integrity_failure = fields.Boolean(
        required=True,
        metadata={"description": "True: withheld because it failed its integrity check"},
    )
    occurred_on = fields.Date(required=True)
    notice = fields.String(allow_none=True, required=True)
    record = fields.Nested(RecordSchema, allow_none=True, required=True)


class RecordPageSchema(Schema):
    items = fields.List(fields.Nested(TimelineItemSchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    next_page = fields.Integer(allow_none=True, required=True)
    highest = fields.String(required=True)


class RecordListArgs(Strict):
    record_type = fields.String(validate=validate.OneOf(RECORD_TYPES))
    agency = fields.String(validate=validate.OneOf(AGENCIES))
    date_from = fields.Date()
    date_to = fields.Date()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))

    @validates_schema
    def _dates(self, data: dict[str, object], **_: object) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:  # type: ignore[operator]
            raise ValidationError("date_from must not be after date_to", "date_from")


class NewRecordSchema(Strict):
    record_type = fields.String(required=True, validate=validate.OneOf(WRITABLE_TYPES))
    occurred_on = fields.Date(required=True)
    classification = fields.String(
        required=True,
        validate=validate.OneOf(CLASSIFICATIONS),
        metadata={"description": "Required: an unlabelled record is refused"},
    )
    caveats = fields.List(
        fields.String(validate=validate.OneOf(CAVEATS)),
        load_default=list,
        validate=validate.Length(max=len(CAVEATS)),
    )
    title = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TITLE))
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))
    joint_agencies = fields.List(
        fields.String(validate=validate.OneOf(AGENCIES)),
        load_default=list,
        validate=validate.Length(max=len(AGENCIES)),
    )


class CorrectionSchema(NewRecordSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RecordHistorySchema(Schema):
    record = fields.Nested(RecordSchema, required=True)
    versions = fields.List(
        fields.Nested(RecordSchema),
        required=True,
        metadata={"description": "Every version you may read, oldest first"},
    )


# -- me and tokens ----------------------------------------------------------------------------
