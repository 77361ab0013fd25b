"""The release handover task list: what the POM and COM must have done before (and just after)
release, shown from 12 weeks before the release date. Owned jointly: either may tick or untick a
task; who and when are kept (append-only), and a task not done by its due date is overdue.
Ticks are case data (kind `lifecycle`, OFFICIAL-SENSITIVE); a tick's note is sealed."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import get_case
from ..context import Ctx
from ..domain.agencies import Role
from ..domain.errors import InvalidValue, NotPermitted
from .common import OS, case_facts, demand, may, names, write_own
from .release_models import HandoverTick

OPENS_WEEKS_BEFORE = 12
OWNERS = frozenset({Role.POM, Role.COM})


class HandoverTask(enum.StrEnum):
    """Each task with its title and when it is due, in days relative to the release date."""

    APPROVED_PREMISES = "APPROVED_PREMISES"
    LICENCE_CONDITIONS = "LICENCE_CONDITIONS"
    ENQUIRIES = "ENQUIRIES"
    EM_ARRANGED = "EM_ARRANGED"
    VISOR_UPDATED = "VISOR_UPDATED"
    FIRST_APPOINTMENT = "FIRST_APPOINTMENT"
    S47_NOTIFICATION = "S47_NOTIFICATION"

    @property
    def title(self) -> str:  # type: ignore[override]
        return _TASKS[self][0]

    @property
    def due_days(self) -> int:
        return _TASKS[self][1]

    @classmethod
    def parse(cls, value: object) -> HandoverTask:
        try:
            return cls(str(value or "").strip().upper())
        except ValueError:
            raise InvalidValue("task", value, why="choose a handover task") from None


_TASKS = {
    HandoverTask.APPROVED_PREMISES: ("Approved premises booked", -56),
    HandoverTask.LICENCE_CONDITIONS: ("Licence conditions agreed", -42),
    HandoverTask.ENQUIRIES: ("Safeguarding and domestic abuse enquiries done", -28),
    HandoverTask.EM_ARRANGED: ("Electronic monitoring (curfew tag or GPS) arranged", -14),
    HandoverTask.VISOR_UPDATED: ("ViSOR updated", -14),
    HandoverTask.FIRST_APPOINTMENT: ("First appointment after release arranged", -7),
    # Counter-Terrorism Act 2008 s.47: initial notification within 3 days of release
    HandoverTask.S47_NOTIFICATION: ("Section 47 notification made", 3),
}


@dataclass(frozen=True)
class TaskView:
    task: HandoverTask
    due_on: date | None
    done: bool = False
    by: str = ""
    by_role: str = ""
    at: datetime | None = None
    note: str = ""
    overdue: bool = False


@dataclass
class HandoverView:
    release_date: date | None
    opens_on: date | None
    is_open: bool
    tasks: list[TaskView] = field(default_factory=list)
    can_tick: bool = False

    @property
    def overdue(self) -> int:
        return sum(1 for t in self.tasks if t.overdue)

    @property
    def outstanding(self) -> int:
        return sum(1 for t in self.tasks if not t.done)


def due_on(task: HandoverTask, release: date | None) -> date | None:
    return release + timedelta(days=task.due_days) if release else None


def is_overdue(done: bool, due: date | None, today: date) -> bool:
    return not done and due is not None and today > due


def handover_for_case(ctx: Ctx, case: Case) -> HandoverView:
    """The list as it stands: each task's latest tick the user may read, due date, overdue."""
    release = case.release_date
    opens = release - timedelta(weeks=OPENS_WEEKS_BEFORE) if release else None
    view = HandoverView(release, opens, opens is not None and ctx.today >= opens)
    rows = list(
        ctx.session.scalars(
            select(HandoverTick)
            .where(HandoverTick.case_id == case.id)
            .order_by(HandoverTick.created_at)
        )
    )
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        rows,
        lambda _r: case_facts(ctx, case, Kind.LIFECYCLE, OS),
        Event(
            action="handover.read",
            object_type="handover",
            outcome="allow",
            label=OS,
            object_id=str(case.id),
            case_id=str(case.id),
        ),
    )
    latest: dict[str, tuple[HandoverTick, str]] = {}
    for row, plain in opened.rows:  # oldest first: the last tick of a task wins
        tick_row: HandoverTick = row  # type: ignore[assignment]
        latest[tick_row.task] = (tick_row, plain.get("note") or "")
    who = names(ctx, [r.by_id for r, _ in latest.values()])
    for task in HandoverTask:
        due = due_on(task, release)
        found = latest.get(task.value)
        if found is None:
            view.tasks.append(TaskView(task, due, overdue=is_overdue(False, due, ctx.today)))
            continue
        row, note = found
        view.tasks.append(
            TaskView(
                task,
                due,
                row.done,
                who.get(row.by_id, ""),
                row.by_role,
                row.created_at,
                note,
                is_overdue(row.done, due, ctx.today),
            )
        )
    view.can_tick = may_tick(ctx, case)
    return view


def may_tick(ctx: Ctx, case: Case) -> bool:
    return ctx.subject.role in OWNERS and may(ctx, case, kind=Kind.LIFECYCLE, act=Act.WRITE)


def tick(
    ctx: Ctx, case_id: uuid.UUID | str, task: str, done: bool = True, note: str = ""
) -> HandoverTick:
    """The POM or COM ticks (or unticks) a task; either may, and who and when are kept."""
    case = get_case(ctx, case_id)
    item = HandoverTask.parse(task)
    demand(
        ctx,
        case,
        kind=Kind.LIFECYCLE,
        act=Act.WRITE,
        event=Event(
            action="handover.tick",
            object_type="handover",
            outcome="done",
            label=OS,
            case_id=str(case.id),
            detail={"task": item.value},
        ),
        message="Only the case team may keep the handover list.",
    )
    if ctx.subject.role not in OWNERS:
        raise NotPermitted(
            "The handover list is kept by the prison and community offender managers."
        )
    text = (note or "").strip()
    if len(text) > 2_000:
        raise InvalidValue("note", text[:20] + "...", why="must be 2000 characters or fewer")
    row = HandoverTick(
        id=uuid.uuid4(),
        case_id=case.id,
        task=item.value,
        done=done,
        by_id=ctx.subject.user_id,
        by_role=ctx.subject.role.value,
        classification=OS.marking,
        caveats="",
    )
    write_own(
        ctx,
        case,
        Kind.LIFECYCLE,
        row,
        {"note": text or None},
        "handover.tick",
        str(row.id),
        {"task": item.value, "done": done},
    )
    return row


def overdue_tasks(ctx: Ctx, case: Case) -> list[TaskView]:
    """For dashboards and the case summary: tasks past their due date and not done."""
    return [t for t in handover_for_case(ctx, case).tasks if t.overdue]
