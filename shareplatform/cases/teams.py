"""Case team and MAPPA panel allocation by user administrators, with dates (e.g. POM to COM
handover). Every change is audited; a change that would leave a case without a lead for its current
phase (custody: a POM lead; community and post-sentence: a COM lead) is held back with a warning
until the administrator confirms it.

Separation of duties (shareplatform/accounts/duties.py): nobody allocates or ends their own
places, and a MAPPA panel place (panel members reach SECRET) is a request that a second
administrator approves (shareplatform/accounts/approvals.py) before it is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.facts import Facts
from ..access.vocabulary import Act, Kind
from ..accounts import approvals
from ..accounts.duties import DutyRefused, refuse_self
from ..accounts.models import User, UserChangeRequest
from ..audit.log import Event
from ..context import Ctx
from ..domain.agencies import Role
from ..domain.cases import Phase
from ..domain.errors import DomainError, InvalidValue, NotFound
from ..domain.labels import Classification
from .models import Case, TeamMembership

LABEL = "OFFICIAL-SENSITIVE"  # who holds a case is need-to-know information
LEAD_CAPACITY = {Phase.CUSTODY: Role.POM, Phase.COMMUNITY: Role.COM, Phase.POST_SENTENCE: Role.COM}


class NeedsConfirmation(DomainError):
    """The change would leave a case without its lead; nothing was written."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        super().__init__(" ".join(warnings))


def _require(
    ctx: Ctx, action: str, case: Case | None = None, detail: dict[str, object] | None = None
) -> None:
    cid = str(case.id) if case else ""
    ctx.access.require(
        ctx.session,
        ctx.subject,
        Facts(Kind.TEAM, Classification.parse(LABEL)),
        Act.MANAGE,
        Event(
            action=action,
            object_type="team",
            outcome="allow",
            label=Classification.parse(LABEL),
            object_id=cid,
            case_id=cid,
            detail=detail or {},
        ),
        hide=False,
    )


def case_by_reference(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
    if case is None:
        raise NotFound("case")
    return case


@dataclass(frozen=True)
class Membership:
    id: uuid.UUID
    username: str
    name: str
    capacity: str
    panel: bool
    lead: bool
    start: date
    end: date | None
    current: bool


@dataclass(frozen=True)
class CaseTeam:
    reference: str
    phase: str
    nsd_unit: str | None
    ct_unit: str | None
    members: list[Membership]
    warnings: list[str]


def _current(m: TeamMembership | _Span, on: date) -> bool:
    return m.start_date <= on and (m.end_date is None or m.end_date >= on)


def phase_on(case: Case, on: date) -> Phase:
    """The phase on a date: a custody case whose release date has come is in the community."""
    phase = Phase.parse(case.phase)
    if phase is Phase.CUSTODY and case.release_date is not None and on >= case.release_date:
        return Phase.COMMUNITY
    return phase


def lead_warnings(
    memberships: list[TeamMembership] | list[_Span], case: Case, on: date
) -> list[str]:
    """Why the case would have no lead for its phase on `on` (empty when it has one)."""
    phase = phase_on(case, on)
    needed = LEAD_CAPACITY[phase]
    if any(
        m.lead and not m.panel and m.capacity == needed.value and _current(m, on)
        for m in memberships
    ):
        return []
    return [
        f"{case.reference} would have no {needed.title.lower()} lead "
        f"in its {phase.title.lower()} phase "
        f"from {on:%d %B %Y}."
    ]


def _memberships(session: Session, case: Case) -> list[TeamMembership]:
    return list(session.scalars(select(TeamMembership).where(TeamMembership.case_id == case.id)))


@dataclass(frozen=True)
class _Span:
    capacity: str
    panel: bool
    lead: bool
    start_date: date
    end_date: date | None


def _spans(memberships: list[TeamMembership]) -> dict[uuid.UUID, _Span]:
    return {m.id: _Span(m.capacity, m.panel, m.lead, m.start_date, m.end_date) for m in memberships}


def _check(
    case: Case, on: date, before: list[_Span], after: list[_Span], confirm: bool
) -> list[str]:
    """Judge the change before anything is written; warn only about a lead gap it creates."""
    gap = lead_warnings(after, case, on)
    if gap and not lead_warnings(before, case, on) and not confirm:
        raise NeedsConfirmation(gap)
    return gap


def team(ctx: Ctx, reference: str) -> CaseTeam:
    case = case_by_reference(ctx.session, reference)
    _require(ctx, "team.view", case)
    rows = ctx.session.execute(
        select(TeamMembership, User)
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.case_id == case.id)
        .order_by(TeamMembership.panel, TeamMembership.start_date)
    ).all()
    members = [
        Membership(
            m.id,
            u.username,
            u.display_name,
            m.capacity,
            m.panel,
            m.lead,
            m.start_date,
            m.end_date,
            _current(m, ctx.today),
        )
        for m, u in rows
    ]
    return CaseTeam(
        case.reference,
        case.phase,
        case.nsd_unit,
        case.ct_unit,
        members,
        lead_warnings([m for m, _ in rows], case, ctx.today),
    )


def _member(ctx: Ctx, username: str) -> User:
    user = ctx.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise InvalidValue("user", username, why="no such user")
    if user.disabled_at is not None:
        raise InvalidValue("user", username, why="the account is disabled")
    refuse_self(ctx.subject.user_id, user.id, "change team or panel places")
    return user


def _check_place(
    session: Session,
    case: Case,
    user: User,
    start: date,
    end: date | None,
    panel: bool,
    lead: bool,
) -> list[TeamMembership]:
    if end is not None and end < start:
        raise InvalidValue(
            "end date", end.isoformat(), why="the end date must be on or after the start date"
        )
    if lead and panel:
        raise InvalidValue(
            "lead", "panel", why="a case lead holds the case on its team, not its panel"
        )
    existing = _memberships(session, case)
    for m in existing:
        if (
            m.user_id == user.id
            and m.panel == panel
            and (m.end_date is None or m.end_date >= start)
            and (end is None or m.start_date <= end)
        ):
            raise InvalidValue(
                "dates",
                start.isoformat(),
                why=f"{user.username} already holds this case in those dates",
            )
    return existing


def allocate(
    ctx: Ctx,
    reference: str,
    username: str,
    capacity: str,
    start: date,
    *,
    panel: bool = False,
    lead: bool = False,
    end: date | None = None,
    confirm: bool = False,
) -> tuple[TeamMembership, list[str]]:
    """Put a user on a case's team from `start`, optionally to `end`. A panel place is not
    allocated here: request it (request_panel_place) for a second administrator to approve."""
    if panel:
        raise DutyRefused(
            "A MAPPA panel place needs a second administrator's approval: request it instead."
        )
    return _place(ctx, reference, username, capacity, start, lead=lead, end=end, confirm=confirm)


def _place(
    ctx: Ctx,
    reference: str,
    username: str,
    capacity: str,
    start: date,
    *,
    panel: bool = False,
    lead: bool = False,
    end: date | None = None,
    confirm: bool = False,
    detail: dict[str, object] | None = None,
) -> tuple[TeamMembership, list[str]]:
    case = case_by_reference(ctx.session, reference)
    _require(ctx, "team.allocate", case)
    user = _member(ctx, username)
    cap = Role.parse(capacity)
    existing = _check_place(ctx.session, case, user, start, end, panel, lead)
    before = list(_spans(existing).values())
    warnings = _check(
        case, ctx.today, before, [*before, _Span(cap.value, panel, lead, start, end)], confirm
    )
    member = TeamMembership(
        id=uuid.uuid4(),
        case_id=case.id,
        user_id=user.id,
        capacity=cap.value,
        panel=panel,
        lead=lead,
        start_date=start,
        end_date=end,
    )
    ctx.session.add(member)
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="team.allocate",
            object_type="team",
            outcome="done",
            label=Classification.parse(LABEL),
            object_id=str(member.id),
            case_id=str(case.id),
            detail={
                "user": user.username,
                "capacity": cap.value,
                "panel": panel,
                "lead": lead,
                "start": start.isoformat(),
                "end": end.isoformat() if end else None,
                "warnings": warnings,
                **(detail or {}),
            },
        ),
    )
    return member, warnings


def request_panel_place(
    ctx: Ctx,
    reference: str,
    username: str,
    capacity: str,
    start: date,
    *,
    reason: str,
    end: date | None = None,
) -> UserChangeRequest:
    """Ask for a MAPPA panel place; a second administrator's approval writes it."""
    case = case_by_reference(ctx.session, reference)
    _require(ctx, "team.request_panel", case)
    user = _member(ctx, username)
    cap = Role.parse(capacity)
    _check_place(ctx.session, case, user, start, end, True, False)
    payload = {
        "summary": f"MAPPA panel of {case.reference} as {cap.value} from {start:%d %B %Y}"
        + (f" to {end:%d %B %Y}" if end else ""),
        "reference": case.reference,
        "username": user.username,
        "capacity": cap.value,
        "start": start.isoformat(),
        "end": end.isoformat() if end else None,
    }
    return approvals.submit(ctx, "panel", user, user.username, payload, reason)


def _apply_panel(ctx: Ctx, row: UserChangeRequest, payload: dict[str, Any]) -> str:
    requester = ctx.session.get(User, row.requested_by)
    _place(
        ctx,
        payload["reference"],
        payload["username"],
        payload["capacity"],
        date.fromisoformat(payload["start"]),
        panel=True,
        end=date.fromisoformat(payload["end"]) if payload.get("end") else None,
        detail={
            "request": str(row.id),
            "requested_by": requester.username if requester else "",
        },
    )
    return f"{payload['username']} is on the MAPPA panel of {payload['reference']}."


approvals.register_kind("panel", _apply_panel)


def end_membership(
    ctx: Ctx, membership_id: uuid.UUID | str, end: date, reason: str, *, confirm: bool = False
) -> list[str]:
    """End a team or panel membership on `end` (its last day)."""
    try:
        member = ctx.session.get(TeamMembership, uuid.UUID(str(membership_id)))
    except ValueError:
        member = None
    if member is None:
        raise NotFound("membership")
    case = ctx.session.get(Case, member.case_id)
    assert case is not None
    _require(ctx, "team.end", case)
    refuse_self(ctx.subject.user_id, member.user_id, "change team or panel places")
    if not reason.strip():
        raise InvalidValue("reason", reason, why="give the reason for ending the membership")
    if end < member.start_date - timedelta(days=1):
        raise InvalidValue(
            "end date", end.isoformat(), why="the end date is before the membership began"
        )
    on = max(ctx.today, end + timedelta(days=1))
    spans = _spans(_memberships(ctx.session, case))
    after = {
        **spans,
        member.id: _Span(member.capacity, member.panel, member.lead, member.start_date, end),
    }
    warnings = _check(case, on, list(spans.values()), list(after.values()), confirm)
    member.end_date = end
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="team.end",
            object_type="team",
            outcome="done",
            label=Classification.parse(LABEL),
            object_id=str(member.id),
            case_id=str(case.id),
            reason=reason.strip(),
            detail={"end": end.isoformat(), "capacity": member.capacity, "warnings": warnings},
        ),
    )
    return warnings


def handover(
    ctx: Ctx,
    reference: str,
    from_membership: uuid.UUID | str,
    to_username: str,
    capacity: str,
    on: date,
    *,
    reason: str,
    confirm: bool = False,
) -> tuple[TeamMembership, list[str]]:
    """Hand the lead over (e.g. POM to COM at release): the old lead ends the day before `on`."""
    with (
        ctx.session.begin_nested()
    ):  # both halves or neither, even when the caller catches a warning
        member, warnings = _place(
            ctx, reference, to_username, capacity, on, lead=True, confirm=True
        )
        warnings += end_membership(
            ctx, from_membership, on - timedelta(days=1), reason, confirm=confirm
        )
    return member, warnings
