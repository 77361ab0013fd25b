"""API schemas of you and your tokens."""

from __future__ import annotations

from marshmallow import Schema, fields

from .tokens import Scope


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
