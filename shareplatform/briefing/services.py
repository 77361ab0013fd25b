"""The case summary: what a reader needs to know now about one case, from what they may see.

Every fact comes through the same decisions as the rest of the case page: actions through
`mappa.reading.action_views` (decided and audited per action, a frontline owner sees only the
break-out), checklists through `lifecycle.checklists.checklists_for_case`, assessment dates through
the records filter (`records.visibility.record_filter`), the team through `cases.services.team_of`.
A part the reader may not see is left out; nothing is counted that is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ..access.vocabulary import Act, Kind
from ..cases.services import CaseView
from ..casework import may
from ..context import Ctx
from ..domain.cases import Phase, RecordType
from ..domain.errors import NotPermitted
from ..domain.labels import Classification, Label
from ..lifecycle.checklists import checklists_for_case
from ..lifecycle.common import readable_records
from ..lifecycle.plans import alert_for, latest_assessment, latest_readable
from ..lifecycle.workflow import current_stage
from ..mappa.models import MappaAction, MappaMeeting, MeetingSupersession
from ..mappa.reading import ActionView, action_views
from ..mappa.vocab import ActionState

OS = Classification.OFFICIAL_SENSITIVE
OPEN_STATES = (ActionState.OPEN, ActionState.IN_PROGRESS)


@dataclass(frozen=True)
class KeyDate:
    title: str
    on: date | None
    days: int | None  # days from today, negative when past; None when no date is held
    note: str = ""


@dataclass(frozen=True)
class ActionLine:
    text: str
    owner: str
    due_on: date
    label: Label
    overdue: bool


@dataclass(frozen=True)
class ChecklistLine:
    transition: str
    due_on: date
    owner: str
    missing: list[str]
    overdue: bool


@dataclass(frozen=True)
class Contact:
    agency: str
    name: str
    capacity: str


@dataclass
class CaseSummary:
    phase: str
    stage: str
    mappa_level: int
    key_dates: list[KeyDate]
    open_actions: list[ActionLine] = field(default_factory=list)
    checklists_visible: bool = False
    checklists: list[ChecklistLine] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    labels: list[Classification] = field(default_factory=list)
    exportable: bool = False  # may the reader export it as a PDF (pages offer only this)

    @property
    def overdue_actions(self) -> list[ActionLine]:
        return [a for a in self.open_actions if a.overdue]

    @property
    def highest(self) -> Classification:
        return max(self.labels, default=OS)


def case_summary(ctx: Ctx, view: CaseView) -> CaseSummary:
    """The summary of a case already opened by `case_view` (the case decision is not repeated)."""
    case = view.case
    stage, _since, _recorded = current_stage(ctx, case)
    summary = CaseSummary(
        Phase(case.phase).title,
        stage.title,
        case.mappa_level,
        _key_dates(ctx, view),
        labels=[OS],
    )
    summary.open_actions = _open_actions(ctx, view, summary)
    summary.checklists_visible = may(ctx, case, kind=Kind.CHECKLIST, label=OS)
    if summary.checklists_visible:
        summary.checklists = _outstanding_checklists(ctx, view)
    summary.alerts = _alerts(ctx, view)
    summary.contacts = _who_to_call(view, ctx.today)
    summary.exportable = may(
        ctx, case, kind=Kind.CASE, act=Act.EXPORT, label=export_label(view, summary)
    )
    return summary


def export_label(view: CaseView, summary: CaseSummary) -> Classification:
    """The PDF's marking: the highest label of what it shows, the nominal included."""
    return max(Classification.parse(view.nominal.label), summary.highest)


def _days(on: date | None, today: date) -> int | None:
    return (on - today).days if on is not None else None


def _key_dates(ctx: Ctx, view: CaseView) -> list[KeyDate]:
    case, today = view.case, ctx.today
    review = case.next_review
    if may(ctx, case, kind=Kind.MEETING_OPEN, label=OS):  # the date is in the open part
        review = _review_set_at_meeting(ctx, view) or review
    plan_review, plan_note = _plan_review(ctx, view)
    return [
        KeyDate("Release", case.release_date, _days(case.release_date, today)),
        KeyDate("Licence end", case.licence_end, _days(case.licence_end, today)),
        KeyDate("Sentence end", case.sentence_end, _days(case.sentence_end, today)),
        KeyDate("Next MAPPA review", review, _days(review, today)),
        KeyDate("Plan review", plan_review, _days(plan_review, today), plan_note),
    ]


def _review_set_at_meeting(ctx: Ctx, view: CaseView) -> date | None:
    """Each meeting sets the next review date (docs/domain.md): the latest meeting's counts,
    unless it was corrected or withdrawn (its correction, being a meeting, sets its own). A
    meeting whose stamp fails is passed over (shareplatform/crypto/attested.py)."""
    replaced = select(MeetingSupersession.meeting_id).where(
        MeetingSupersession.case_id == view.case.id
    )
    meetings = ctx.session.scalars(
        select(MappaMeeting)
        .where(
            MappaMeeting.case_id == view.case.id,
            MappaMeeting.next_review.is_not(None),
            MappaMeeting.id.not_in(replaced),
        )
        .order_by(MappaMeeting.held_on.desc(), MappaMeeting.created_at.desc())
    )
    return next((m.next_review for m in meetings if m.facts_intact), None)


def _plan_review(ctx: Ctx, view: CaseView) -> tuple[date | None, str]:
    """A plan holds no review date of its own: it is due for review when the latest assessment
    it should rest on is newer (rec 18, lifecycle/stages.py `stale`)."""
    # the newest version the reader may read, numbered as they count versions (lifecycle/plans.py)
    plan, number = latest_readable(ctx, view.case)
    if plan is None:
        return None, "No plan you can see"
    latest = latest_assessment(ctx, view.case)
    if latest is not None and latest > plan.effective_on:
        return latest, f"Due now: version {number} predates the latest ERG 22+ or PGF"
    return None, f"Version {number} of {plan.effective_on:%d %B %Y} is current"


def _open_actions(ctx: Ctx, view: CaseView, summary: CaseSummary) -> list[ActionLine]:
    rows = list(
        ctx.session.scalars(
            select(MappaAction)
            .where(MappaAction.case_id == view.case.id)
            .order_by(MappaAction.due_on)
        )
    )
    lines = []
    for a in action_views(ctx, view.case, rows):  # only what the reader may see of each
        if not a.live or a.status not in OPEN_STATES:
            continue
        text, label = _action_text(a)
        if text is None:
            continue
        summary.labels.append(label.classification)
        lines.append(ActionLine(text, a.owner, a.due_on, label, a.due_on < ctx.today))
    return lines


def _action_text(a: ActionView) -> tuple[str | None, Label]:
    if a.description is not None:
        return a.description, a.label
    if a.breakout is not None:
        return a.breakout.text, a.breakout.label
    return None, a.label


def _outstanding_checklists(ctx: Ctx, view: CaseView) -> list[ChecklistLine]:
    try:
        lists = checklists_for_case(ctx, view.case)
    except NotPermitted:
        return []
    return [
        ChecklistLine(
            c.transition.title,
            c.due_on,
            c.owner,
            [e.title for e in c.outstanding],
            c.due_on < ctx.today,
        )
        for c in lists
        if not c.complete
    ]


def _alerts(ctx: Ctx, view: CaseView) -> list[str]:
    alerts = []
    plan, number = latest_readable(ctx, view.case)
    if plan is not None:
        stale = alert_for(plan, latest_assessment(ctx, view.case), number)
        if stale:
            alerts.append(stale)
    home_visit = _home_visit_alert(ctx, view)
    if home_visit:
        alerts.append(home_visit)
    return alerts


def _home_visit_alert(ctx: Ctx, view: CaseView) -> str:
    """Rec 20: police visit the home only after a recent home-visit risk assessment
    (domain/rules.py); shown once the latest one the reader may see has lapsed, or none exists
    and police are on the team."""
    days = ctx.settings.home_visit_assessment_days
    found = readable_records(ctx, view.case, (RecordType.ASSESSMENT_HOME_VISIT_RISK,))
    if not found:
        police = any(m.agency == "CTNM" and m.end is None for m in view.team)
        return (
            "No home-visit risk assessment is recorded: one is needed before police visit."
            if police
            else ""
        )
    lapses = found[0].occurred_on + timedelta(days=days)
    if lapses < ctx.today:
        return (
            f"Home-visit risk assessment due: the latest ({found[0].occurred_on:%d %B %Y}) "
            f"lapsed on {lapses:%d %B %Y}; police may not visit the home until a new one is done."
        )
    if lapses <= ctx.today + timedelta(days=7):
        return f"Home-visit risk assessment due by {lapses:%d %B %Y}."
    return ""


def _who_to_call(view: CaseView, today: date) -> list[Contact]:
    """The lead of each agency on the case team (the team as the reader may see it)."""
    current = [m for m in view.team if m.start <= today and (m.end is None or m.end >= today)]
    out: dict[str, Contact] = {}
    for m in sorted(current, key=lambda m: (not m.lead, m.start)):
        if m.lead and m.agency not in out:
            out[m.agency] = Contact(m.agency, m.name, m.role)
    return sorted(out.values(), key=lambda c: c.agency)
