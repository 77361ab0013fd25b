"""Recommendation 4: MAPPA Level 3 cases due a review, next review dates and chairing hours."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select

from ..access.vocabulary import Kind
from ..accounts.models import User
from ..cases.models import Case, MappaLevelChange
from ..context import Ctx
from ..mappa.models import MappaMeeting
from .scope import OS, Scope
from .settings import DEFAULT_REPORT_SETTINGS, ReportSettings
from .source import figures
from .standards import add_months, level3_review_anchor


@dataclass(frozen=True)
class ReviewDue:
    case_id: uuid.UUID
    reference: str
    nsd_unit: str | None
    ct_unit: str | None
    level3_since: date  # the last level decision, or release when later
    due_on: date
    next_review: date | None  # the case's (or its last meeting's) next review date

    def overdue_days(self, today: date) -> int:
        return (today - self.due_on).days


def level3_reviews_due(ctx: Ctx, scope: Scope) -> list[ReviewDue]:
    """Cases at Level 3 for the set months (after release) with no level decision since."""
    if scope.national:
        return []  # a list of cases is case information: only for those who may open the cases
    months = ctx.settings.level3_review_months
    last_change = (
        select(MappaLevelChange.case_id, func.max(MappaLevelChange.effective_from).label("since"))
        .group_by(MappaLevelChange.case_id)
        .subquery()
    )
    last_meeting = (
        select(MappaMeeting.case_id, func.max(MappaMeeting.next_review).label("review"))
        .group_by(MappaMeeting.case_id)
        .subquery()
    )
    rows = (
        figures(ctx)
        .execute(
            select(
                Case.id,
                Case.reference,
                Case.nsd_unit,
                Case.ct_unit,
                Case.release_date,
                Case.created_at,
                Case.next_review,
                last_change.c.since,
                last_meeting.c.review,
            )
            .outerjoin(last_change, last_change.c.case_id == Case.id)
            .outerjoin(last_meeting, last_meeting.c.case_id == Case.id)
            .where(Case.mappa_level == 3, scope.cases())
            .order_by(Case.reference)
        )
        .all()
    )
    due = []
    for cid, ref, nsd, ctu, release, created, next_review, since, meeting_review in rows:
        anchor = level3_review_anchor(since, release, created.date(), ctx.today)
        if anchor is None:
            continue
        due_on = add_months(anchor, months)
        if due_on <= ctx.today:
            due.append(ReviewDue(cid, ref, nsd, ctu, anchor, due_on, next_review or meeting_review))
    return sorted(due, key=lambda r: (r.due_on, r.reference))


def upcoming_reviews(ctx: Ctx, scope: Scope, days: int = 28) -> list[tuple[str, uuid.UUID, date]]:
    """Next review dates in the coming weeks (cases.next_review), for the viewer's cases."""
    if scope.national:
        return []
    rows = (
        figures(ctx)
        .execute(
            select(Case.reference, Case.id, Case.next_review)
            .where(
                scope.cases(),
                Case.next_review.is_not(None),
                Case.next_review >= ctx.today,
                Case.next_review <= ctx.today + timedelta(days=days),
            )
            .order_by(Case.next_review, Case.reference)
        )
        .all()
    )
    return [(r, i, d) for r, i, d in rows if d is not None]


@dataclass(frozen=True)
class ChairingHours:
    user_id: uuid.UUID
    name: str
    role: str
    chaired: int
    co_chaired: int
    hours: float


def chairing_hours(
    ctx: Ctx, scope: Scope, settings: ReportSettings = DEFAULT_REPORT_SETTINGS
) -> list[ChairingHours]:
    """Meetings chaired or co-chaired per person over the set months, in estimated hours.

    Meetings record no duration: each counts the hours configured for its type
    (settings.meeting_hours).
    Only meetings on cases where the viewer may read the meeting's open part are counted.
    """
    if scope.national or ctx.subject.role.info.oversight.value == "none":
        return []  # per-person figures are for managers with oversight of the unit
    since = add_months(ctx.today, -settings.chairing_months)
    readable = scope.where_allowed(ctx, Kind.MEETING_OPEN, OS)
    rows = (
        figures(ctx)
        .execute(
            select(MappaMeeting.meeting_type, MappaMeeting.chair_id, MappaMeeting.co_chair_id)
            .join(Case, Case.id == MappaMeeting.case_id)
            .where(readable, MappaMeeting.held_on >= since, MappaMeeting.held_on <= ctx.today)
        )
        .all()
    )
    tally: dict[uuid.UUID, list[float]] = {}
    for mtype, chair, co_chair in rows:
        hours = settings.meeting_duration(mtype)
        for who, slot in ((chair, 0), (co_chair, 1)):
            if who is None:
                continue
            t = tally.setdefault(who, [0, 0, 0.0])
            t[slot] += 1
            t[2] += hours
    if not tally:
        return []
    people = {u.id: u for u in figures(ctx).scalars(select(User).where(or_(User.id.in_(tally))))}
    out = [
        ChairingHours(uid, people[uid].display_name, people[uid].role, int(t[0]), int(t[1]), t[2])
        for uid, t in tally.items()
        if uid in people
    ]
    return sorted(out, key=lambda c: (-c.hours, c.name))
