"""API schemas of cases: caseload, search, case detail."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..web.schemas import LabelSchema, Strict


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
