"""The JSON API: you and your API tokens."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g

from ..access.vocabulary import Permission
from ..web.api import Blueprint, guard
from ..web.permissions import requires
from ..web.request import ctx as context
from . import schemas as s
from . import tokens as token_service
from .models import User

account = guard(
    Blueprint("api-account", __name__, url_prefix="/api/v1", description="You and your API tokens")
)


# -- you and your tokens ----------------------------------------------------------------------
@account.route("/me")
@requires(Permission.SIGNED_IN)
@account.response(200, s.MeSchema)
def me() -> dict[str, Any]:
    """Who the token acts for, with today's clearance."""
    ctx = context()
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
@requires(Permission.SIGNED_IN)
@account.response(200, s.TokenListSchema)
def my_tokens() -> dict[str, Any]:
    """Your API tokens (never their text)."""
    ctx = context()
    return {"items": token_service.list_tokens(ctx.session, ctx.subject.user_id)}


@account.route("/tokens/<uuid:token_id>", methods=["DELETE"])
@requires(Permission.SIGNED_IN)
@account.response(200, s.TokenSchema)
def revoke_token(token_id: uuid.UUID) -> Any:
    """Revoke one of your tokens (it stops working at once)."""
    ctx = context()
    user = ctx.session.get(User, ctx.subject.user_id)
    assert user is not None
    return token_service.revoke_token(ctx.session, ctx.access, user, token_id)


# -- caseload, search, case -------------------------------------------------------------------
