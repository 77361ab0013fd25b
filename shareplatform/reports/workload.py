"""Recommendations 14 and 15: caseloads per practitioner, weighted, and contact frequency.

Honest approximations, said on the page too: the platform knows only the cases it holds, so a
POM's "total" caseload is their platform caseload; sentence-plan objectives are not structured, so
contact frequency is compared with the contact standard (contacts per week per case).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select

from ..access.vocabulary import Kind
from ..accounts.models import User
from ..cases.models import Case, TeamMembership
from ..context import Ctx
from ..records.models import Record
from .scope import OS, Scope
from .settings import DEFAULT_REPORT_SETTINGS, ReportSettings
from .source import figures
from .standards import CONTACTS


@dataclass(frozen=True)
class Workload:
    user_id: uuid.UUID
    name: str
    role: str
    cases: int
    weighted: float
    terrorist: int  # cases in the terrorist categories (settings.terrorist_categories)
    contacts_per_case_week: float | None  # over the last settings.contact_weeks weeks

    @property
    def terrorist_share(self) -> float | None:
        return self.terrorist / self.cases if self.cases else None


def workloads(
    ctx: Ctx, scope: Scope, settings: ReportSettings = DEFAULT_REPORT_SETTINGS
) -> list[Workload]:
    """Current case-team members (not panels) of cases whose team the viewer may see.

    Managers with oversight see everyone's; anyone else sees their own line only.
    """
    if scope.national:
        return []  # who holds which case is team information: only for those who may see the team
    team_visible = scope.where_allowed(ctx, Kind.TEAM, OS)
    mine_only = (
        ctx.subject.role.info.oversight.value == "none"
    )  # colleagues' loads are for managers
    current = and_(
        TeamMembership.start_date <= ctx.today,
        or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= ctx.today),
        TeamMembership.panel.is_(False),
    )
    if mine_only:
        current = and_(current, TeamMembership.user_id == ctx.subject.user_id)
    rows = (
        figures(ctx)
        .execute(
            select(
                TeamMembership.user_id,
                Case.category,
                Case.mappa_level,
                func.count(func.distinct(Case.id)),
            )
            .join(Case, Case.id == TeamMembership.case_id)
            .where(current, team_visible)
            .group_by(TeamMembership.user_id, Case.category, Case.mappa_level)
        )
        .all()
    )
    tally: dict[uuid.UUID, list[float]] = {}
    for uid, category, level, n in rows:
        t = tally.setdefault(uid, [0, 0.0, 0])
        t[0] += n
        t[1] += n * settings.weight(category, level)
        if category in settings.terrorist_categories:
            t[2] += n
    if not tally:
        return []
    since = ctx.today - timedelta(weeks=settings.contact_weeks)
    # contacts on each member's current cases, counted only where the viewer may read them
    contact_rows = (
        figures(ctx)
        .execute(
            select(TeamMembership.user_id, func.count(Record.id))
            .join(Case, Case.id == TeamMembership.case_id)
            .join(Record, Record.case_id == Case.id)
            .where(
                current,
                team_visible,
                Record.record_type.in_(CONTACTS),
                Record.occurred_on > since,
                Record.occurred_on <= ctx.today,
                scope.records(),
            )
            .group_by(TeamMembership.user_id)
        )
        .all()
    )
    contacts = dict(contact_rows)
    people = {u.id: u for u in figures(ctx).scalars(select(User).where(User.id.in_(tally)))}
    out = []
    for uid, (cases, weighted, terrorist) in tally.items():
        user = people.get(uid)
        if user is None:
            continue
        per_week = contacts.get(uid, 0) / cases / settings.contact_weeks if cases else None
        out.append(
            Workload(
                uid,
                user.display_name,
                user.role,
                int(cases),
                round(weighted, 2),
                int(terrorist),
                per_week,
            )
        )
    return sorted(out, key=lambda w: (-w.weighted, w.name))
