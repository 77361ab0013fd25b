"""Agreed actions: status history, later break-outs, owners' and chairs' dashboards."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..context import Ctx
from ..db import utcnow
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification
from .common import OS, case_facts, demand, parse_id
from .decisions import new_breakout, prepare_breakout, store_breakout
from .models import ActionStatus, Breakout, MappaAction, MappaDecision, MappaMeeting
from .reading import ActionView, action_views
from .vocab import LIVE_STATES, NEXT_STATES, ActionState, NewBreakout, optional_text


@dataclass(frozen=True)
class ActionItem:
    """One line of a dashboard: what the reader may see of an open action, and how urgent it is."""

    action: ActionView
    case_id: uuid.UUID
    case_reference: str
    overdue: bool
    due_soon: bool

    @property
    def text(self) -> str:
        if self.action.description is not None:
            return self.action.description
        return self.action.breakout.text if self.action.breakout else ""

    @property
    def from_breakout(self) -> bool:
        return self.action.description is None


def write_status(
    ctx: Ctx, case: Case, action: MappaAction, state: ActionState, note: str | None
) -> ActionStatus:
    position = (
        ctx.session.scalar(
            select(func.count())
            .select_from(ActionStatus)
            .where(ActionStatus.action_id == action.id)
        )
        or 0
    )
    row = ActionStatus(
        id=uuid.uuid4(),
        action_id=action.id,
        position=position,
        status=state.value,
        by_id=ctx.subject.user_id,
        at=utcnow(),
        classification=OS,
        caveats="",
    )
    ctx.access.write(
        ctx.session,
        ctx.subject,
        row,
        {"note": note},
        case_facts(ctx, case, Kind.ACTION_STATUS, OS, owner=action.owner_id == ctx.subject.user_id),
        Event(
            action="mappa.action.status",
            object_type="action",
            outcome="done",
            label=OS,
            object_id=str(action.id),
            case_id=str(case.id),
            detail={"status": state.value, "position": position},
        ),
    )
    return row


def _action_and_case(ctx: Ctx, action_id: uuid.UUID | str) -> tuple[MappaAction, Case]:
    aid = parse_id(action_id, "action")
    action = ctx.session.get(MappaAction, aid)
    case = ctx.session.get(Case, action.case_id) if action is not None else None
    if action is None or case is None:
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action="mappa.action.read",
                object_type="action",
                outcome="deny",
                label=Classification.OFFICIAL,
                object_id=str(aid),
                case_id="",
                reason="no such action",
            ),
        )
        raise NotFound("action")
    return action, case


def action_page(ctx: Ctx, action_id: uuid.UUID | str) -> ActionView:
    """One action as the reader may see it (an owner outside the corridor: the break-out only)."""
    action, case = _action_and_case(ctx, action_id)
    views = action_views(ctx, case, [action])
    if not views:
        raise NotFound("action")
    return views[0]


def update_action(
    ctx: Ctx, action_id: uuid.UUID | str, status: str, note: str = ""
) -> ActionStatus:
    """Append a status step (in progress, done, or cancelled with a note: who, when, from which
    status to which). History is never rewritten."""
    action, case = _action_and_case(ctx, action_id)
    view = action_page(ctx, action.id)  # the reader must see the action or its break-out
    demand(
        ctx,
        case,
        kind=Kind.ACTION_STATUS,
        label=OS,
        act=Act.WRITE,
        event=Event(
            action="mappa.action.status",
            object_type="action",
            outcome="done",
            label=OS,
            object_id=str(action.id),
            case_id=str(case.id),
        ),
        message="Only the action's owner or a corridor manager on the panel may update it.",
        owner=action.owner_id == ctx.subject.user_id,
    )
    state = ActionState.parse(status)
    if not view.to_do:
        raise InvalidValue(
            "action status", status, why=f"this action is already {view.status.title.lower()}"
        )
    allowed = sorted(NEXT_STATES[view.status.value])
    if state.value not in allowed:
        raise InvalidValue(
            "action status",
            status,
            why=f"an action that is {view.status.title.lower()} can move to "
            + " or ".join(ActionState(s).title.lower() for s in allowed),
        )
    if not view.live:
        raise NotPermitted(
            "This action's decision has been corrected: update the actions of the correction."
        )
    text = optional_text("note", note)
    if state is ActionState.CANCELLED and not text:
        raise InvalidValue("note", "", why="say why the action is cancelled")
    row = write_status(ctx, case, action, state, text or None)
    ctx.session.flush()
    return row


def release_breakout(ctx: Ctx, action_id: uuid.UUID | str, data: NewBreakout) -> Breakout:
    """The chair approves a sanitised break-out of an existing action (one per action)."""
    action, case = _action_and_case(ctx, action_id)
    decision = ctx.session.get(MappaDecision, action.decision_id)
    meeting = ctx.session.get(MappaMeeting, decision.meeting_id) if decision else None
    if decision is None or meeting is None:
        raise NotFound("action")
    demand(
        ctx,
        case,
        kind=Kind.ACTION,
        label=Classification.parse(action.classification),
        act=Act.READ,
        event=Event(
            action="mappa.action.read",
            object_type="action",
            outcome="allow",
            label=Classification.parse(action.classification),
            object_id=str(action.id),
            case_id=str(case.id),
        ),
        message="Only corridor managers on the panel may release a break-out.",
    )
    prep = prepare_breakout(ctx, case, meeting, action.label, data)
    if ctx.session.scalar(select(Breakout.id).where(Breakout.action_id == action.id)) is not None:
        raise InvalidValue("break-out", "", why="this action already has a break-out")
    bo, plain = new_breakout(ctx, case, action, prep)
    store_breakout(ctx, case, bo, plain)
    ctx.session.flush()
    return bo


# -- dashboards ------------------------------------------------------------------------------------
def my_actions(ctx: Ctx) -> list[ActionItem]:
    """Open actions I own on live decisions: the action itself, or only its break-out."""
    return _dashboard(ctx, MappaAction.owner_id == ctx.subject.user_id, "mappa.dashboard.owner")


def chair_actions(ctx: Ctx) -> list[ActionItem]:
    """Open actions of decisions I chaired or co-chaired."""
    me = ctx.subject.user_id
    mine = select(MappaDecision.id).where(
        or_(MappaDecision.decided_by_id == me, MappaDecision.agreed_by_id == me)
    )
    return _dashboard(ctx, MappaAction.decision_id.in_(mine), "mappa.dashboard.chair")


def _dashboard(ctx: Ctx, which, action: str) -> list[ActionItem]:
    successor = aliased(MappaDecision)
    latest = (
        select(ActionStatus.status)
        .where(ActionStatus.action_id == MappaAction.id)
        .order_by(ActionStatus.position.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = ctx.session.scalars(
        select(MappaAction)
        .where(
            which,
            latest.in_(sorted(LIVE_STATES)),
            ~select(successor.id)
            .where(successor.supersedes_id == MappaAction.decision_id)
            .exists(),
        )
        .order_by(MappaAction.due_on, MappaAction.position)
    ).all()
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action=action,
            object_type="action",
            outcome="allow",
            label=OS,
            detail={"candidates": len(rows)},
        ),
    )
    by_case: dict[uuid.UUID, list[MappaAction]] = {}
    for a in rows:
        by_case.setdefault(a.case_id, []).append(a)
    cases = (
        {c.id: c for c in ctx.session.scalars(select(Case).where(Case.id.in_(by_case)))}
        if by_case
        else {}
    )
    items = []
    for case_id, actions in by_case.items():
        case = cases[case_id]
        for view in action_views(ctx, case, actions):
            items.append(
                ActionItem(
                    view, case.id, case.reference, view.overdue(ctx.today), view.due_soon(ctx.today)
                )
            )
    return sorted(items, key=lambda i: (not i.overdue, i.action.due_on, i.case_reference))


def case_actions(ctx: Ctx, case: Case) -> list[ActionView]:
    """Every action on the case this reader may see (the action, or only its break-out), for the
    case timeline, newest first. The access layer decides and audits each one; the rest leave no
    trace."""
    rows = ctx.session.scalars(
        select(MappaAction)
        .where(MappaAction.case_id == case.id)
        .order_by(MappaAction.created_at.desc(), MappaAction.position)
    ).all()
    # an action whose integrity check failed is shown only to those who may read the action
    return [
        v for v in action_views(ctx, case, list(rows)) if v.description is not None or v.breakout
    ]


def shown_label(view: ActionView) -> str:
    """The marking of what a reader is shown of an action: the action, or only its break-out."""
    if view.description is None and view.breakout is not None:
        return view.breakout.label.classification.marking
    return view.label.classification.marking


def due_summary(items: list[ActionItem], today: date) -> dict[str, int]:
    return {
        "overdue": sum(i.overdue for i in items),
        "due_soon": sum(i.due_soon for i in items),
        "open": len(items),
    }
