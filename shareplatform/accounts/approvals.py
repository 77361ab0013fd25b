"""Changes to users that wait for a second administrator (the two-person rule of
shareplatform/accounts/duties.py).

A request records what to apply (`payload`), why, and who asked; nothing changes until a
different administrator, who is not its subject, approves it. Then the kind's applier runs in
the approver's unit of work: the request, its approval and the change itself commit together, and
each step is audited. Kinds register their applier: the account kinds in
shareplatform/accounts/admin.py, MAPPA panel places in shareplatform/cases/teams.py (so this module
depends on no feature above it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ..access.facts import Facts
from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..context import Ctx
from ..db import utcnow
from ..domain.errors import Conflict, InvalidValue, NotFound
from ..domain.labels import Classification
from .duties import DutyRefused, check_approver, refuse_self
from .models import User, UserChangeRequest

PENDING, APPROVED, REFUSED, WITHDRAWN = "pending", "approved", "refused", "withdrawn"
MAX_REASON = 500

# kind -> applier(ctx, request, payload): applies the change as the approver; returns a message
Applier = Callable[[Ctx, UserChangeRequest, dict[str, Any]], str]
_APPLIERS: dict[str, Applier] = {}


def register_kind(kind: str, applier: Applier) -> None:
    _APPLIERS[kind] = applier


def require_manage(
    ctx: Ctx, action: str, object_id: str = "", detail: dict[str, object] | None = None
) -> None:
    """The user administrator's capability (policy kind `user`, action `manage`), audited."""
    ctx.access.require(
        ctx.session,
        ctx.subject,
        Facts(Kind.USER, Classification.OFFICIAL),
        Act.MANAGE,
        Event(
            action=action,
            object_type="user",
            outcome="allow",
            label=Classification.OFFICIAL,
            object_id=object_id,
            detail=detail or {},
        ),
        hide=False,
    )


def audit_done(
    ctx: Ctx,
    action: str,
    object_id: str,
    reason: str = "",
    detail: dict[str, object] | None = None,
    object_type: str = "user",
) -> None:
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action=action,
            object_type=object_type,
            outcome="done",
            label=Classification.OFFICIAL,
            object_id=object_id,
            reason=reason,
            detail=detail or {},
        ),
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue(
            "reason", reason, why="give the reason, for the administrator who will approve it"
        )
    if len(reason) > MAX_REASON:
        raise InvalidValue("reason", reason[:20], why=f"use {MAX_REASON} characters or fewer")
    return reason


def submit(
    ctx: Ctx,
    kind: str,
    target: User | None,
    target_username: str,
    payload: dict[str, Any],
    reason: str,
) -> UserChangeRequest:
    """Record a change for a second administrator to approve; nothing is applied yet."""
    refuse_self(ctx.subject.user_id, target.id if target else None, "request this change")
    reason = _reason(reason)
    waiting = ctx.session.scalars(
        select(UserChangeRequest.payload).where(
            UserChangeRequest.kind == kind,
            UserChangeRequest.target_username == target_username,
            UserChangeRequest.status == PENDING,
        )
    )
    if any(json.loads(p).get("summary") == payload.get("summary") for p in waiting):
        raise Conflict(
            f"The same request for {target_username} is already waiting for approval: "
            "approve, refuse or withdraw it first."
        )
    row = UserChangeRequest(
        id=uuid.uuid4(),
        kind=kind,
        target_user_id=target.id if target else None,
        target_username=target_username,
        payload=json.dumps(payload, sort_keys=True),
        reason=reason,
        requested_by=ctx.subject.user_id,
        requested_at=utcnow(),
        status=PENDING,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit_done(
        ctx,
        "user.request",
        str(row.target_user_id or ""),
        reason,
        {
            "request": str(row.id),
            "kind": kind,
            "username": target_username,
            "summary": payload.get("summary", ""),
        },
    )
    return row


@dataclass(frozen=True)
class PendingRequest:
    id: uuid.UUID
    kind: str
    target_username: str
    summary: str
    reason: str
    requested_by: str
    requested_at: datetime
    mine: bool  # the viewer asked for it: they may withdraw it, not approve it
    about_me: bool  # the viewer is its subject: they may do nothing with it


def pending(ctx: Ctx) -> list[PendingRequest]:
    require_manage(ctx, "user.requests")
    rows = ctx.session.execute(
        select(UserChangeRequest, User.username)
        .join(User, User.id == UserChangeRequest.requested_by)
        .where(UserChangeRequest.status == PENDING)
        .order_by(UserChangeRequest.requested_at)
    ).all()
    me = ctx.subject.user_id
    return [
        PendingRequest(
            r.id,
            r.kind,
            r.target_username,
            str(json.loads(r.payload).get("summary", "")),
            r.reason,
            by,
            r.requested_at,
            r.requested_by == me,
            r.target_user_id == me,
        )
        for r, by in rows
    ]


def _get(ctx: Ctx, request_id: uuid.UUID | str) -> UserChangeRequest:
    try:
        rid = request_id if isinstance(request_id, uuid.UUID) else uuid.UUID(str(request_id))
    except ValueError:
        raise NotFound("request") from None
    row = ctx.session.get(UserChangeRequest, rid)
    if row is None:
        raise NotFound("request")
    return row


def _decide(ctx: Ctx, row: UserChangeRequest, status: str, note: str = "") -> None:
    """Move a pending request on, atomically: two administrators cannot both decide it."""
    moved = ctx.session.execute(
        update(UserChangeRequest)
        .where(UserChangeRequest.id == row.id, UserChangeRequest.status == PENDING)
        .values(
            status=status,
            decided_by=ctx.subject.user_id,
            decided_at=utcnow(),
            decision_note=note or None,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise Conflict("This request has already been decided.")
    ctx.session.refresh(row)


def approve(ctx: Ctx, request_id: uuid.UUID | str) -> str:
    """A second administrator approves: the change is applied now, as them."""
    row = _get(ctx, request_id)
    require_manage(ctx, "user.approve", str(row.target_user_id or ""), {"request": str(row.id)})
    check_approver(ctx.subject.user_id, row.requested_by, row.target_user_id)
    from . import admin  # noqa: F401 - registers the account kinds

    applier = _APPLIERS.get(row.kind)
    if applier is None:
        raise InvalidValue("request", row.kind, why="this kind of request cannot be applied here")
    _decide(ctx, row, APPROVED)
    requester = ctx.session.get(User, row.requested_by)
    audit_done(
        ctx,
        "user.approve",
        str(row.target_user_id or ""),
        row.reason,
        {
            "request": str(row.id),
            "kind": row.kind,
            "username": row.target_username,
            "requested_by": requester.username if requester else "",
        },
    )
    return applier(ctx, row, json.loads(row.payload))


def refuse(ctx: Ctx, request_id: uuid.UUID | str, note: str) -> None:
    row = _get(ctx, request_id)
    require_manage(ctx, "user.refuse", str(row.target_user_id or ""), {"request": str(row.id)})
    if ctx.subject.user_id == row.requested_by:
        raise DutyRefused("You made this request: withdraw it instead.")
    check_approver(ctx.subject.user_id, row.requested_by, row.target_user_id)
    note = _reason(note)
    _decide(ctx, row, REFUSED, note)
    audit_done(
        ctx,
        "user.refuse",
        str(row.target_user_id or ""),
        note,
        {"request": str(row.id), "kind": row.kind, "username": row.target_username},
    )


def withdraw(ctx: Ctx, request_id: uuid.UUID | str) -> None:
    row = _get(ctx, request_id)
    require_manage(ctx, "user.withdraw", str(row.target_user_id or ""), {"request": str(row.id)})
    if ctx.subject.user_id != row.requested_by:
        raise DutyRefused("Only the administrator who made this request can withdraw it.")
    _decide(ctx, row, WITHDRAWN)
    audit_done(
        ctx,
        "user.withdraw",
        str(row.target_user_id or ""),
        "",
        {"request": str(row.id), "kind": row.kind, "username": row.target_username},
    )
