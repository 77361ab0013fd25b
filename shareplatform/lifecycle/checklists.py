"""Transition checklists (rec 12/13): domestic abuse, child and adult safeguarding enquiries at
release, leaving approved premises, transfer and sentence end, flagged while outstanding."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select

from ..access.vocabulary import Act, Kind
from ..accounts.models import User
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import get_case
from ..context import Ctx
from ..domain.agencies import Oversight
from ..domain.errors import Conflict, InvalidValue, NotFound
from ..domain.labels import Classification
from ..records.models import Record
from .common import OS, case_facts, case_record, current_members, demand, names, parse_id, write_own
from .models import ChecklistEntry, PlanBasis, TransitionChecklist
from .plans import plan_versions, readable_versions
from .stages import Enquiry, EnquiryOutcome, Transition, validate_entry


@dataclass(frozen=True)
class NewChecklist:
    transition: str
    due_on: date | None
    owner_id: uuid.UUID | str | None


@dataclass(frozen=True)
class NewEntry:
    enquiry: str
    outcome: str
    record_id: uuid.UUID | str | None = None
    reason: str = ""


@dataclass(frozen=True)
class EntryView:
    enquiry: Enquiry
    outcome: EnquiryOutcome
    record_id: uuid.UUID | None
    record_on: date | None
    reason: str
    by: str
    at: datetime
    in_plan: int | None  # the plan version that rests on the enquiry's record, if any


@dataclass
class ChecklistView:
    id: uuid.UUID
    case_id: uuid.UUID
    transition: Transition
    due_on: date
    owner: str
    owner_id: uuid.UUID
    entries: dict[Enquiry, EntryView] = field(default_factory=dict)

    @property
    def outstanding(self) -> list[Enquiry]:
        return [e for e in Enquiry if e not in self.entries]

    @property
    def complete(self) -> bool:
        return not self.outstanding


@dataclass(frozen=True)
class Outstanding:
    checklist_id: uuid.UUID
    case_id: uuid.UUID
    reference: str
    transition: Transition
    due_on: date
    owner: str
    missing: list[Enquiry]
    overdue: bool
    as_manager: bool  # flagged to me as the owner's manager rather than as the owner


def open_checklist(ctx: Ctx, case_id: uuid.UUID | str, data: NewChecklist) -> TransitionChecklist:
    case = get_case(ctx, case_id)
    event = Event(
        action="checklist.open",
        object_type="checklist",
        outcome="done",
        label=OS,
        object_id="",
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.CHECKLIST,
        act=Act.WRITE,
        event=event,
        message="Only the case team may open a transition checklist.",
    )
    transition = Transition.parse(data.transition, "transition")
    if data.due_on is None:
        raise InvalidValue("transition date", None, why="enter the date of the transition")
    if data.owner_id in (None, ""):
        raise InvalidValue("owner", None, why="choose who owns the checklist")
    try:
        owner_id = parse_id(data.owner_id, "owner")
    except NotFound:
        raise InvalidValue(
            "owner", str(data.owner_id), why="choose a member of the case team"
        ) from None
    if owner_id not in current_members(ctx, case):
        raise InvalidValue("owner", str(owner_id), why="choose a current member of the case team")
    clash = ctx.session.scalar(
        select(TransitionChecklist.id).where(
            TransitionChecklist.case_id == case.id,
            TransitionChecklist.transition == transition.value,
            TransitionChecklist.due_on == data.due_on,
        )
    )
    if clash is not None:
        raise Conflict("A checklist for this transition on that date is already open.")
    row = TransitionChecklist(
        id=uuid.uuid4(),
        case_id=case.id,
        transition=transition.value,
        due_on=data.due_on,
        owner_id=owner_id,
        opened_by_id=ctx.subject.user_id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="checklist.open",
            object_type="checklist",
            outcome="done",
            label=OS,
            object_id=str(row.id),
            case_id=str(case.id),
            detail={
                "transition": transition.value,
                "due_on": data.due_on.isoformat(),
                "owner": str(owner_id),
            },
        ),
    )
    return row


def _checklist(ctx: Ctx, checklist_id: uuid.UUID | str) -> tuple[TransitionChecklist, Case]:
    row = ctx.session.get(TransitionChecklist, parse_id(checklist_id, "checklist"))
    if row is None:
        raise NotFound("checklist")
    try:
        return row, get_case(ctx, row.case_id)
    except NotFound:
        raise NotFound("checklist") from None


def record_entry(ctx: Ctx, checklist_id: uuid.UUID | str, data: NewEntry) -> ChecklistEntry:
    """One enquiry's outcome: done (with its record), not needed, or court checks sufficient."""
    checklist, case = _checklist(ctx, checklist_id)
    event = Event(
        action="checklist.entry",
        object_type="checklist",
        outcome="done",
        label=OS,
        object_id=str(checklist.id),
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.CHECKLIST,
        act=Act.WRITE,
        event=event,
        message="Only the case team may record enquiries on this checklist.",
    )
    enquiry = Enquiry.parse(data.enquiry, "enquiry")
    outcome = EnquiryOutcome.parse(data.outcome, "outcome")
    record: Record | None = None
    if data.record_id not in (None, ""):
        record = case_record(ctx, case, data.record_id, (enquiry.record_type,), "enquiry record")
    reason = (data.reason or "").strip()
    validate_entry(outcome, record.record_type if record else None, reason)
    entry = ChecklistEntry(
        id=uuid.uuid4(),
        checklist_id=checklist.id,
        enquiry=enquiry.value,
        outcome=outcome.value,
        record_id=record.id if record else None,
        by_id=ctx.subject.user_id,
        classification=OS,
        caveats="",
    )
    write_own(
        ctx,
        case,
        Kind.CHECKLIST,
        entry,
        {"reason": reason or None},
        "checklist.entry",
        str(checklist.id),
        {
            "enquiry": enquiry.value,
            "outcome": outcome.value,
            "record": str(record.id) if record else "",
        },
    )
    return entry


def checklists_for_case(ctx: Ctx, case: Case) -> list[ChecklistView]:
    """Every checklist of the case with each enquiry's latest outcome (reasons via the kernel)."""
    event = Event(
        action="checklist.view",
        object_type="checklist",
        outcome="allow",
        label=OS,
        object_id=str(case.id),
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.CHECKLIST,
        act=Act.READ,
        event=event,
        message="You cannot see this case's transition checklists.",
    )
    lists = list(
        ctx.session.scalars(
            select(TransitionChecklist)
            .where(TransitionChecklist.case_id == case.id)
            .order_by(TransitionChecklist.due_on, TransitionChecklist.created_at)
        )
    )
    if not lists:
        ctx.access.record(ctx.session, ctx.subject, event)
        return []
    entries = list(
        ctx.session.scalars(
            select(ChecklistEntry)
            .where(ChecklistEntry.checklist_id.in_([c.id for c in lists]))
            .order_by(ChecklistEntry.created_at)
        )
    )
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        entries,
        lambda e: case_facts(ctx, case, Kind.CHECKLIST, Classification.parse(e.classification)),
        event,
    )
    record_ids = {e.record_id for e in entries if e.record_id}
    dates = (
        dict(
            ctx.session.execute(
                select(Record.id, Record.occurred_on).where(Record.id.in_(record_ids))
            ).all()
        )
        if record_ids
        else {}
    )
    in_plan = _plan_versions_for(ctx, case, record_ids)
    who = names(ctx, [c.owner_id for c in lists] + [e.by_id for e in entries])
    views = {
        c.id: ChecklistView(
            c.id, case.id, Transition(c.transition), c.due_on, who.get(c.owner_id, ""), c.owner_id
        )
        for c in lists
    }
    for entry, plain in opened.rows:
        e: ChecklistEntry = entry  # type: ignore[assignment]
        views[e.checklist_id].entries[Enquiry(e.enquiry)] = EntryView(
            Enquiry(e.enquiry),
            EnquiryOutcome(e.outcome),
            e.record_id,
            dates.get(e.record_id) if e.record_id else None,
            plain.get("reason") or "",
            who.get(e.by_id, ""),
            e.created_at,
            in_plan.get(e.record_id) if e.record_id else None,
        )
    return list(views.values())


def _plan_versions_for(ctx: Ctx, case: Case, record_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The latest plan version resting on each record (rec 13: enquiry results in the plan),
    numbered among the versions the user may read, as the plan pages number them
    (shareplatform/lifecycle/plans.py): a version they may not read is neither shown nor counted."""
    ids = [r for r in record_ids if r]
    if not ids:
        return {}
    readable = readable_versions(ctx, case, plan_versions(ctx, case))  # newest first
    number = {plan.id: len(readable) - n for n, plan in enumerate(readable)}
    rows = ctx.session.execute(
        select(PlanBasis.record_id, PlanBasis.plan_id).where(
            PlanBasis.plan_id.in_(list(number)), PlanBasis.record_id.in_(ids)
        )
    ).all()
    out: dict[uuid.UUID, int] = {}
    for rid, plan_id in rows:
        out[rid] = max(number[plan_id], out.get(rid, 0))
    return out


def latest_complete(ctx: Ctx, case: Case) -> dict[str, bool]:
    """Transition -> whether its latest checklist is complete (for the lifecycle items)."""
    lists = ctx.session.execute(
        select(TransitionChecklist.id, TransitionChecklist.transition)
        .where(TransitionChecklist.case_id == case.id)
        .order_by(TransitionChecklist.due_on, TransitionChecklist.created_at)
    ).all()
    latest = {t: cid for cid, t in lists}
    if not latest:
        return {}
    done_rows = ctx.session.execute(
        select(ChecklistEntry.checklist_id, ChecklistEntry.enquiry).where(
            ChecklistEntry.checklist_id.in_(list(latest.values()))
        )
    ).all()
    have: dict[uuid.UUID, set[str]] = {}
    for cid, enquiry in done_rows:
        have.setdefault(cid, set()).add(enquiry)
    return {t: len(have.get(cid, set())) == len(Enquiry) for t, cid in latest.items()}


def outstanding_checklists(ctx: Ctx) -> list[Outstanding]:
    """Checklists with enquiries outstanding, flagged to their owner and to the owner's managers
    (oversight managers of the case's unit), for dashboards. Filtered in SQL, audited once."""
    s = ctx.subject
    mine = TransitionChecklist.owner_id == s.user_id
    oversight = s.role.info.oversight
    managed = None
    if oversight is Oversight.NSD_UNIT and s.nsd_unit:
        managed = Case.nsd_unit == s.nsd_unit
    elif oversight is Oversight.CT_UNIT and s.ct_unit:
        managed = Case.ct_unit == s.ct_unit
    complete = (
        select(ChecklistEntry.checklist_id)
        .group_by(ChecklistEntry.checklist_id)
        .having(func.count(ChecklistEntry.enquiry.distinct()) >= len(Enquiry))
    )
    stmt = (
        select(TransitionChecklist, Case, User.display_name)
        .join(Case, Case.id == TransitionChecklist.case_id)
        .join(User, User.id == TransitionChecklist.owner_id)
        .where(or_(mine, managed) if managed is not None else mine)
        .where(~TransitionChecklist.id.in_(complete))
        .order_by(TransitionChecklist.due_on, Case.reference)
    )
    rows = ctx.session.execute(stmt).all()
    rows = [
        r
        for r in rows
        if ctx.access.decide(
            ctx.session, s, case_facts(ctx, r[1], Kind.CHECKLIST, OS), Act.READ
        ).allowed
    ]
    have: dict[uuid.UUID, set[str]] = {}
    if rows:
        for cid, enquiry in ctx.session.execute(
            select(ChecklistEntry.checklist_id, ChecklistEntry.enquiry).where(
                ChecklistEntry.checklist_id.in_([r[0].id for r in rows])
            )
        ):
            have.setdefault(cid, set()).add(enquiry)
    out = [
        Outstanding(
            c.id,
            case.id,
            case.reference,
            Transition(c.transition),
            c.due_on,
            owner,
            [e for e in Enquiry if e.value not in have.get(c.id, set())],
            c.due_on <= ctx.today,
            c.owner_id != s.user_id,
        )
        for c, case, owner in rows
    ]
    ctx.access.record(
        ctx.session,
        s,
        Event(
            action="checklist.outstanding",
            object_type="checklist",
            outcome="allow",
            label=OS,
            detail={"checklists": [str(o.checklist_id) for o in out]},
        ),
    )
    return out


__all__ = [
    "ChecklistView",
    "EntryView",
    "NewChecklist",
    "NewEntry",
    "Outstanding",
    "checklists_for_case",
    "latest_complete",
    "open_checklist",
    "outstanding_checklists",
    "record_entry",
]
