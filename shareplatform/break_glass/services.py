"""Emergency ("break-glass") access for someone not on a case's team (docs/domain.md, "Access
rules").

OFFICIAL-SENSITIVE at most (the policy's break-glass lines stop there and the ORCON deny still
applies), with a written reason, time-limited, audited as "break_glass.take", and listed for
review by the managers with oversight of the case's unit (HoNSU for the NSD unit, LRO for the CT
unit: the policy's `break_glass_review` line).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from blinker import signal
from sqlalchemy import select

from ..access.facts import CaseRef, Facts, relation
from ..access.vocabulary import Act, Kind
from ..accounts.models import User
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import find_case
from ..context import Ctx
from ..db import utcnow
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification
from .models import BreakGlass

MAX_HOURS = 24
MIN_REASON = 10  # a written reason, not a token


@dataclass(frozen=True)
class PendingReview:
    id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str
    who: str
    reason: str
    started_at: datetime
    expires_at: datetime


def _case(ctx: Ctx, case_id: uuid.UUID | str) -> Case:
    return find_case(ctx, case_id, "break_glass.take")


def take_break_glass(ctx: Ctx, case_id: uuid.UUID | str, reason: str, hours: int = 4) -> BreakGlass:
    """Grant the acting user emergency access to one case for `hours`; audited, then reviewed."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise InvalidValue("reason", reason, why="write why you need emergency access to this case")
    if not 1 <= int(hours) <= MAX_HOURS:
        raise InvalidValue(
            "hours", hours, why=f"emergency access lasts between 1 and {MAX_HOURS} hours"
        )
    case = _case(ctx, case_id)
    rel = relation(ctx.subject, CaseRef(case.id, case.nsd_unit, case.ct_unit))
    event = Event(
        action="break_glass.take",
        object_type="case",
        outcome="done",
        label=Classification.OFFICIAL_SENSITIVE,
        object_id=str(case.id),
        case_id=str(case.id),
        reason=text,
        detail={"hours": int(hours), "reason": text},
    )  # the decision's explanation fills `reason`
    if rel.need_to_know:
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action=event.action,
                object_type="case",
                outcome="deny",
                label=event.label,
                object_id=str(case.id),
                case_id=str(case.id),
                reason="already has access to the case",
            ),
        )
        raise NotPermitted("You already have access to this case: emergency access is not needed.")
    facts = Facts.on(Kind.CASE, Classification.OFFICIAL_SENSITIVE, rel)
    ctx.access.require(ctx.session, ctx.subject, facts, Act.BREAK_GLASS, event, hide=False)
    now = utcnow()
    grant = BreakGlass(
        id=uuid.uuid4(),
        user_id=ctx.subject.user_id,
        case_id=case.id,
        reason=text,
        started_at=now,
        expires_at=now + timedelta(hours=int(hours)),
    )
    ctx.session.add(grant)
    ctx.session.flush()
    # the unit's managers are told (shareplatform/notifications/services.py), in this transaction
    signal("shareplatform.break-glass-taken").send(ctx, case=case, grant=grant)
    return grant


def pending_reviews(ctx: Ctx) -> list[PendingReview]:
    """Break-glass grants not yet reviewed on cases whose unit the acting manager oversees."""
    rows = ctx.session.execute(
        select(BreakGlass, Case, User.username)
        .join(Case, Case.id == BreakGlass.case_id)
        .join(User, User.id == BreakGlass.user_id)
        .where(BreakGlass.reviewed_at.is_(None))
        .order_by(BreakGlass.started_at)
    ).all()
    out = []
    for grant, case, username in rows:
        rel = relation(ctx.subject, CaseRef(case.id, case.nsd_unit, case.ct_unit))
        facts = Facts.on(Kind.BREAK_GLASS_REVIEW, Classification.OFFICIAL_SENSITIVE, rel)
        if ctx.access.decide(ctx.session, ctx.subject, facts, Act.READ).allowed:
            out.append(
                PendingReview(
                    grant.id,
                    case.id,
                    case.reference,
                    username,
                    grant.reason,
                    grant.started_at,
                    grant.expires_at,
                )
            )
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="break_glass.reviews",
            object_type="case",
            outcome="allow",
            label=Classification.OFFICIAL_SENSITIVE,
            detail={"pending": [str(p.id) for p in out]},
        ),
    )
    return out


def mark_reviewed(ctx: Ctx, grant_id: uuid.UUID | str) -> None:
    """A manager overseeing the case's unit records that the emergency access was reviewed."""
    try:
        gid = grant_id if isinstance(grant_id, uuid.UUID) else uuid.UUID(str(grant_id))
    except ValueError:
        raise NotFound("break-glass grant") from None
    grant = ctx.session.get(BreakGlass, gid)
    case = ctx.session.get(Case, grant.case_id) if grant is not None else None
    if grant is None or case is None:
        raise NotFound("break-glass grant")
    facts = Facts.on(
        Kind.BREAK_GLASS_REVIEW,
        Classification.OFFICIAL_SENSITIVE,
        relation(ctx.subject, CaseRef(case.id, case.nsd_unit, case.ct_unit)),
    )
    ctx.access.require(
        ctx.session,
        ctx.subject,
        facts,
        Act.READ,
        Event(
            action="break_glass.review",
            object_type="case",
            outcome="done",
            label=Classification.OFFICIAL_SENSITIVE,
            object_id=str(grant.id),
            case_id=str(case.id),
        ),
    )
    if grant.reviewed_at is not None:
        raise NotPermitted("This emergency access has already been reviewed.")
    grant.reviewed_by_id = ctx.subject.user_id
    grant.reviewed_at = utcnow()
    ctx.session.flush()
