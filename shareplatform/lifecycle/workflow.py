"""The lifecycle of a case: recorded steps, stage transitions (append-only, with rationale) and
the outstanding items of the current stage, derived from what is recorded."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select

from ..access.vocabulary import Act, Kind
from ..accounts.models import User
from ..audit.log import Event
from ..cases.models import Case, TeamMembership
from ..cases.services import case_ref, get_case
from ..context import Ctx
from ..domain.cases import RecordType
from ..domain.errors import InvalidValue, NotPermitted
from ..domain.labels import Classification
from ..mappa.models import MappaMeeting
from ..records.models import Record
from ..records.visibility import record_filter
from .checklists import latest_complete
from .common import OS, case_facts, case_record, demand, names, need, write_own
from .models import LifecycleStep, StageTransition
from .plans import plan_state
from .stages import (
    SETTINGS,
    CaseFacts,
    ItemState,
    Stage,
    Step,
    StepFact,
    allowed_moves,
    check_move,
    default_stage,
    evaluate,
    triage_value,
    validate_step_value,
)

MAX_NOTE = 4000


@dataclass(frozen=True)
class TransitionView:
    from_stage: Stage
    to_stage: Stage
    effective_on: date
    by: str
    rationale: str
    outstanding: list[str]
    created_at: datetime


@dataclass(frozen=True)
class StepView:
    step: Step
    value: str
    occurred_on: date
    by: str
    note: str
    record_id: uuid.UUID | None


@dataclass
class LifecycleView:
    case: Case
    stage: Stage
    since: date | None
    recorded: bool  # False: no transition yet, stage inferred from the case's phase
    items: list[ItemState]
    moves: list[Stage]
    history: list[TransitionView] = field(default_factory=list)
    steps: list[StepView] = field(default_factory=list)

    @property
    def outstanding(self) -> list[ItemState]:
        return [i for i in self.items if not i.done]


def _latest_transition(ctx: Ctx, case: Case) -> StageTransition | None:
    return ctx.session.scalar(
        select(StageTransition)
        .where(StageTransition.case_id == case.id)
        .order_by(StageTransition.created_at.desc(), StageTransition.effective_on.desc())
    )


def current_stage(ctx: Ctx, case: Case) -> tuple[Stage, date | None, bool]:
    last = _latest_transition(ctx, case)
    if last is None:
        return default_stage(case.phase), None, False
    return Stage(last.to_stage), last.effective_on, True


def record_step(
    ctx: Ctx,
    case_id: uuid.UUID | str,
    step: str,
    occurred_on: date | None,
    value: str = "",
    note: str = "",
    record_id: uuid.UUID | str | None = None,
) -> LifecycleStep:
    """Record one fact of the workflow (referral, validation, CIM level, handover, RTOAF...)."""
    case = get_case(ctx, case_id)
    event = Event(
        action="lifecycle.step",
        object_type="lifecycle",
        outcome="done",
        label=OS,
        object_id="",
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.LIFECYCLE,
        act=Act.WRITE,
        event=event,
        message="Only the case team and its managers may record lifecycle steps.",
    )
    kind = Step.parse(step, "step")
    coded = validate_step_value(kind, value, SETTINGS)
    return _write_step(ctx, case, kind, coded, occurred_on, note, record_id)


def record_triage(
    ctx: Ctx,
    case_id: uuid.UUID | str,
    outcome: str,
    reason_code: str,
    occurred_on: date | None,
    note: str = "",
) -> LifecycleStep:
    """A triage panel's decision on a case not triaged automatically, with its coded rationale."""
    case = get_case(ctx, case_id)
    event = Event(
        action="lifecycle.triage",
        object_type="lifecycle",
        outcome="done",
        label=OS,
        object_id="",
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.LIFECYCLE,
        act=Act.WRITE,
        event=event,
        message="Only managers on the case's panel record a triage decision.",
    )
    if not ctx.subject.in_corridor:
        raise NotPermitted(
            "A triage decision is the panel's: a senior manager on the panel records it."
        )
    if case.category == "TERRORIST":
        raise InvalidValue(
            "triage",
            case.category,
            why="terrorist cases come into the NSD automatically: no panel decision is needed",
        )
    coded = triage_value(outcome, reason_code, case.category)
    need("rationale", note, "give the panel's rationale in words as well as its code", MAX_NOTE)
    return _write_step(ctx, case, Step.NSD_TRIAGE, coded, occurred_on, note, None)


def _write_step(
    ctx: Ctx,
    case: Case,
    kind: Step,
    coded: str,
    occurred_on: date | None,
    note: str,
    record_id: uuid.UUID | str | None,
) -> LifecycleStep:
    if occurred_on is None:
        raise InvalidValue("date", None, why="enter the date")
    if occurred_on > ctx.today:
        raise InvalidValue("date", occurred_on.isoformat(), why="the date cannot be in the future")
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise InvalidValue("note", text[:20] + "...", why=f"must be {MAX_NOTE} characters or fewer")
    record = None
    if record_id not in (None, ""):
        wanted = (RecordType.ASSESSMENT_RTOAF,) if kind is Step.RTOAF else tuple(RecordType)
        record = case_record(ctx, case, record_id, wanted, "record")
    elif kind is Step.RTOAF:
        raise InvalidValue("record", "", why="link the RTOAF assessment record")
    row = LifecycleStep(
        id=uuid.uuid4(),
        case_id=case.id,
        step=kind.value,
        value=coded,
        occurred_on=occurred_on,
        record_id=record.id if record else None,
        by_id=ctx.subject.user_id,
        classification=OS,
        caveats="",
    )
    write_own(
        ctx,
        case,
        Kind.LIFECYCLE,
        row,
        {"note": text or None},
        "lifecycle.step",
        "",
        {"step": kind.value, "value": coded},
    )
    return row


def move_stage(
    ctx: Ctx,
    case_id: uuid.UUID | str,
    to_stage: str,
    rationale: str,
    effective_on: date | None = None,
) -> StageTransition:
    """Move the case on. Outstanding items do not block (practice does not wait), but are kept."""
    case = get_case(ctx, case_id)
    event = Event(
        action="lifecycle.move",
        object_type="lifecycle",
        outcome="done",
        label=OS,
        object_id="",
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.LIFECYCLE,
        act=Act.WRITE,
        event=event,
        message="Only the case team and its managers may move the case on.",
    )
    target = Stage.parse(to_stage, "next stage")
    stage, since, _ = current_stage(ctx, case)
    check_move(stage, target)
    why = need("rationale", rationale, "say why the case moves on", MAX_NOTE)
    on = effective_on or ctx.today
    if on > ctx.today:
        raise InvalidValue("date", on.isoformat(), why="the date cannot be in the future")
    if since is not None and on < since:
        raise InvalidValue(
            "date", on.isoformat(), why=f"the case entered {stage.title} on {since.isoformat()}"
        )
    items = evaluate(stage, build_facts(ctx, case, stage, since))
    open_items = [i.code for i in items if not i.done]
    row = StageTransition(
        id=uuid.uuid4(),
        case_id=case.id,
        from_stage=stage.value,
        to_stage=target.value,
        effective_on=on,
        outstanding=",".join(open_items),
        by_id=ctx.subject.user_id,
        classification=OS,
        caveats="",
    )
    write_own(
        ctx,
        case,
        Kind.LIFECYCLE,
        row,
        {"rationale": why},
        "lifecycle.move",
        "",
        {"from": stage.value, "to": target.value, "outstanding": open_items},
    )
    return row


def build_facts(ctx: Ctx, case: Case, stage: Stage, since: date | None) -> CaseFacts:
    """Everything the stage rules look at, from the database (records: only those I may read)."""
    f = CaseFacts(case.category, case.phase, case.mappa_category, ctx.today, stage_since=since)
    readable = record_filter(ctx, case_ref(case))
    for rtype, on in ctx.session.execute(
        select(Record.record_type, Record.occurred_on)
        .where(Record.case_id == case.id, readable)
        .order_by(Record.occurred_on.desc())
    ):
        f.records.setdefault(rtype, []).append(on)
    today = ctx.today
    for capacity, name in ctx.session.execute(
        select(TeamMembership.capacity, User.display_name)
        .join(User, User.id == TeamMembership.user_id)
        .where(
            TeamMembership.case_id == case.id,
            TeamMembership.start_date <= today,
            or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= today),
        )
        .order_by(TeamMembership.lead.desc(), TeamMembership.start_date)
    ):
        f.capacities.setdefault(capacity, name)
    for mtype, held in ctx.session.execute(
        select(MappaMeeting.meeting_type, MappaMeeting.held_on)
        .where(MappaMeeting.case_id == case.id)
        .order_by(MappaMeeting.held_on.desc())
    ):
        f.meetings.setdefault(mtype, []).append(held)
    for step, value, on, rid in ctx.session.execute(
        select(
            LifecycleStep.step,
            LifecycleStep.value,
            LifecycleStep.occurred_on,
            LifecycleStep.record_id,
        )
        .where(LifecycleStep.case_id == case.id)
        .order_by(LifecycleStep.occurred_on, LifecycleStep.created_at)
    ):
        f.steps[step] = StepFact(value, on, rid)
    f.plan_version, f.plan_on, f.plan_countersigned, f.plan_stale = plan_state(ctx, case)
    f.checklists = latest_complete(ctx, case)
    return f


def case_lifecycle(ctx: Ctx, case_id: uuid.UUID | str) -> LifecycleView:
    """Where the case stands, what is outstanding and who owns it; the transition history."""
    case = get_case(ctx, case_id)
    event = Event(
        action="lifecycle.view",
        object_type="lifecycle",
        outcome="allow",
        label=OS,
        object_id=str(case.id),
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.LIFECYCLE,
        act=Act.READ,
        event=event,
        message="You cannot see this case's lifecycle.",
    )
    stage, since, recorded = current_stage(ctx, case)
    items = evaluate(stage, build_facts(ctx, case, stage, since))
    transitions = list(
        ctx.session.scalars(
            select(StageTransition)
            .where(StageTransition.case_id == case.id)
            .order_by(StageTransition.created_at)
        )
    )
    steps = list(
        ctx.session.scalars(
            select(LifecycleStep)
            .where(LifecycleStep.case_id == case.id)
            .order_by(LifecycleStep.occurred_on, LifecycleStep.created_at)
        )
    )
    rows: list = [*transitions, *steps]
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        rows,
        lambda r: case_facts(ctx, case, Kind.LIFECYCLE, Classification.parse(r.classification)),
        event,
    )
    plain = {r.id: p for r, p in opened.rows}
    who = names(ctx, [r.by_id for r in rows])
    history = [
        TransitionView(
            Stage(t.from_stage),
            Stage(t.to_stage),
            t.effective_on,
            who.get(t.by_id, ""),
            plain.get(t.id, {}).get("rationale") or "",
            [c for c in t.outstanding.split(",") if c],
            t.created_at,
        )
        for t in transitions
        if t.id in plain
    ]
    step_views = [
        StepView(
            Step(s.step),
            s.value,
            s.occurred_on,
            who.get(s.by_id, ""),
            plain.get(s.id, {}).get("note") or "",
            s.record_id,
        )
        for s in steps
        if s.id in plain
    ]
    return LifecycleView(
        case, stage, since, recorded, items, allowed_moves(stage), history, step_views
    )
