"""marshmallow 4 schemas of the JSON API. Input schemas reject unknown fields (RAISE)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..accounts.tokens import Scope
from ..domain.agencies import Agency
from ..domain.cases import RecordType
from ..domain.labels import Caveat, Classification
from ..records.services import MAX_BODY, MAX_TITLE

RECORD_TYPES = [t.value for t in RecordType]
WRITABLE_TYPES = [t.value for t in RecordType if t is not RecordType.SANITISED_ACTION]
CLASSIFICATIONS = Classification.markings()
CAVEATS = [c.value for c in Caveat]
AGENCIES = [a.value for a in Agency if a is not Agency.PLATFORM]


class Strict(Schema):
    class Meta:
        unknown = RAISE


# -- problems ---------------------------------------------------------------------------------
class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(
        required=True,
        metadata={"description": "Problem type URI (about:blank for plain HTTP errors)"},
    )
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(
        keys=fields.String(), metadata={"description": "Field name to its error messages"}
    )


# -- common -----------------------------------------------------------------------------------
class LabelSchema(Schema):
    classification = fields.String(required=True, metadata={"enum": CLASSIFICATIONS})
    caveats = fields.List(fields.String(), required=True)
    marking = fields.String(
        required=True,
        metadata={"description": "As printed on a page, e.g. 'OFFICIAL-SENSITIVE / ORCON'"},
    )


def label_dict(label) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "classification": label.classification.marking,
        "caveats": sorted(c.value for c in label.caveats),
        "marking": str(label),
    }


class KeyDateSchema(Schema):
    name = fields.String(required=True)
    date = fields.Date(required=True)


class CaseSummarySchema(Schema):
    id = fields.UUID(required=True)
    reference = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    phase = fields.String(required=True)
    mappa_level = fields.Integer(required=True)
    next_key_date = fields.Nested(KeyDateSchema, allow_none=True, required=True)
    capacity = fields.String(
        required=True, metadata={"description": "My role on the case ('' in search results)"}
    )


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSummarySchema), required=True)


class NominalSchema(Schema):
    id = fields.UUID(required=True)
    given_name = fields.String(required=True)
    family_name = fields.String(required=True)
    aliases = fields.List(fields.String(), required=True)
    date_of_birth = fields.String(allow_none=True, required=True)
    identifiers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    label = fields.Nested(LabelSchema, required=True)


class SearchArgs(Strict):
    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"description": "A full name, family name, alias or identifier (exact match)"},
    )


class SearchHitSchema(Schema):
    case = fields.Nested(CaseSummarySchema, required=True)
    nominal = fields.Nested(NominalSchema, required=True)


class SearchResultSchema(Schema):
    items = fields.List(fields.Nested(SearchHitSchema), required=True)


class TeamMemberSchema(Schema):
    user_id = fields.UUID(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    agency = fields.String(required=True)
    capacity = fields.String(required=True)
    panel = fields.Boolean(required=True)
    lead = fields.Boolean(required=True)
    start = fields.Date(required=True)
    end = fields.Date(allow_none=True, required=True)


class LevelChangeSchema(Schema):
    level = fields.Integer(required=True)
    effective_from = fields.Date(required=True)
    rationale = fields.String(required=True)
    set_by = fields.String(required=True)


class CaseDetailSchema(Schema):
    id = fields.UUID(required=True)
    reference = fields.String(required=True)
    category = fields.String(required=True)
    phase = fields.String(required=True)
    lead_agency = fields.String(required=True)
    nsd_unit = fields.String(allow_none=True, required=True)
    ct_unit = fields.String(allow_none=True, required=True)
    establishment = fields.String(allow_none=True, required=True)
    mappa_category = fields.Integer(required=True)
    mappa_level = fields.Integer(required=True)
    release_date = fields.Date(allow_none=True, required=True)
    licence_end = fields.Date(allow_none=True, required=True)
    sentence_end = fields.Date(allow_none=True, required=True)
    next_review = fields.Date(allow_none=True, required=True)
    nominal = fields.Nested(NominalSchema, required=True)
    team = fields.List(fields.Nested(TeamMemberSchema), required=True)
    mappa_history = fields.List(fields.Nested(LevelChangeSchema), required=True)
    writable_labels = fields.List(fields.String(), required=True)
    highest = fields.String(required=True, metadata={"description": "Highest classification shown"})


# -- records ----------------------------------------------------------------------------------
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
class MeSchema(Schema):
    username = fields.String(required=True)
    role = fields.String(required=True)
    agency = fields.String(required=True)
    clearance = fields.String(allow_none=True, required=True)
    in_corridor = fields.Boolean(required=True)
    token_scope = fields.String(required=True)


class TokenSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    scope = fields.String(required=True, metadata={"enum": [s.value for s in Scope]})
    hint = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True, required=True)
    last_used_at = fields.DateTime(allow_none=True, required=True)
    active = fields.Boolean(required=True)


class TokenListSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema), required=True)


# -- MAPPA ------------------------------------------------------------------------------------
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
