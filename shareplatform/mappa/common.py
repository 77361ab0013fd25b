"""Helpers shared by the MAPPA services: ids, facts, people and memberships."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from ..access.vocabulary import Act, ObjectKind
from ..accounts.models import User
from ..audit.log import Event
from ..cases.models import Case, TeamMembership
from ..casework import OS, SECRET, case_facts, demand, may
from ..context import Ctx
from ..crypto.sealed import Sealed
from ..domain.agencies import Role
from ..domain.errors import InvalidValue, NotFound
from ..domain.labels import Classification


def parse_id(value: object, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(what) from None


def names(ctx: Ctx, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = ctx.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return dict(rows.all())


def active_user(ctx: Ctx, user_id: uuid.UUID | str | None, what: str) -> User:
    if user_id is None or user_id == "":
        raise InvalidValue(what, None, why=f"choose the {what}")
    try:
        uid = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        raise InvalidValue(what, user_id, why="unknown person") from None
    user = ctx.session.get(User, uid)
    if user is None or user.disabled_at is not None:
        raise InvalidValue(what, str(user_id), why="unknown person")
    return user


def current_members(ctx: Ctx, case: Case, *, panel_only: bool = False) -> set[uuid.UUID]:
    today = ctx.today
    stmt = select(TeamMembership.user_id).where(
        TeamMembership.case_id == case.id,
        TeamMembership.start_date <= today,
        or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= today),
    )
    if panel_only:
        stmt = stmt.where(TeamMembership.panel.is_(True))
    return set(ctx.session.scalars(stmt))


def people_of_case(ctx: Ctx, case: Case) -> list[User]:
    """Current team and panel members: who may chair, attend or own an action."""
    ids = current_members(ctx, case)
    if not ids:
        return []
    return list(
        ctx.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.display_name))
    )


def check_chair(ctx: Ctx, case: Case, user: User, what: str, required_role: Role | None) -> None:
    role = Role.parse(user.role)
    if required_role is not None and role is not required_role:
        raise InvalidValue(
            what,
            user.display_name,
            why=f"a MAPPA Level 3 meeting's {what} is the {required_role.title}",
        )
    if not role.in_corridor:
        raise InvalidValue(
            what,
            user.display_name,
            why=f"the {what} must be a senior manager in the sterile corridor",
        )
    if user.id not in current_members(ctx, case, panel_only=True):
        raise InvalidValue(
            what, user.display_name, why=f"the {what} must sit on this case's MAPPA panel"
        )


def conceal(
    ctx: Ctx,
    case: Case,
    *,
    kind: ObjectKind,
    act: Act,
    event: Event,
    label: Classification = SECRET,
) -> None:
    """Decide; on refusal audit the denial and answer exactly as for an object that does not
    exist (NotFound), for what the user may not know is there: never a reason that names a label,
    the sterile corridor or their vetting."""
    facts = case_facts(ctx, case, kind, label)
    decision = ctx.access.decide(ctx.session, ctx.subject, facts, act)
    if decision.allowed:
        return
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action=event.action,
            object_type=event.object_type,
            outcome="deny",
            label=label,
            object_id=event.object_id,
            case_id=event.case_id,
            reason=decision.explanation,
            detail=event.detail,
        ),
    )
    raise NotFound(event.object_type or "page")


def case_event(
    case: Case, action: str, label: Classification, object_id: object = "", **more: Any
) -> Event:
    """An audit event about an object of `case`, its type named by the action
    ("mappa.<type>.<verb>"); `more`: outcome (default "done"), reason, detail."""
    event = Event(action=action, object_type=action.split(".")[1], outcome="done", label=label)
    return replace(event, object_id=str(object_id), case_id=str(case.id), **more)


def seal_new(
    ctx: Ctx,
    case: Case,
    kind: ObjectKind,
    row: Sealed,
    plain: dict[str, str | None],
    event: Event,
) -> None:
    """Decide, audit (`event`) and seal a new row of `kind` on the case, at the row's label."""
    label = Classification.parse(row.classification)
    ctx.access.write(
        ctx.session, ctx.subject, row, plain, case_facts(ctx, case, kind, label), event
    )


def demand_write(
    ctx: Ctx, case: Case, kind: ObjectKind, label: Classification, event: Event, message: str
) -> None:
    """Decide writing `kind` at `label` on the case; a refusal is audited and says `message`."""
    demand(ctx, case, kind=kind, label=label, act=Act.WRITE, event=event, message=message)


def not_future(kind: str, value: date | None, today: date) -> date:
    if value is None:
        raise InvalidValue(kind, None, why=f"enter the {kind}")
    if value > today:
        raise InvalidValue(kind, value.isoformat(), why=f"the {kind} cannot be in the future")
    return value


# the shared case-work access helpers, re-exported for the MAPPA services
__all__ = ["OS", "SECRET", "case_facts", "conceal", "demand", "may"]
