"""Who is acting: the Subject the access layer decides on, built from the user's account, their
case team and panel memberships and their emergency-access grants, as of today. Handed to the
access layer at start-up (shareplatform/platform.py) as its SubjectLoader."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from .access.facts import Subject
from .accounts.models import User
from .break_glass.models import BreakGlass
from .cases.models import TeamMembership
from .crypto.attested import intact_rows
from .db import utcnow
from .domain.agencies import Agency, Role
from .domain.errors import IntegrityFailure
from .domain.vetting import Vetting, VettingStatus

ACCOUNT_FAILED = (
    "Your account failed its integrity check, so the service cannot act for you. "
    "Contact the service desk: the failure has been recorded."
)


def load_subject(session: Session, user_id: uuid.UUID, today: date) -> Subject:
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    if not user.facts_intact:  # a forged role, clearance or unit: nobody may act as this user
        raise IntegrityFailure("users", str(user.id), ACCOUNT_FAILED)
    # keep the acting user in the session's identity map (it holds objects weakly) for the rest
    # of the unit of work: the page header asks for it again
    session.info.setdefault("acting_users", {})[user.id] = user
    team: set[uuid.UUID] = set()
    panel: set[uuid.UUID] = set()
    ended: dict[uuid.UUID, date] = {}
    for row in intact_rows(session, TeamMembership, TeamMembership.user_id == user.id):
        case_id, start, end = row["case_id"], row["start_date"], row["end_date"]
        current = start <= today and (end is None or end >= today)
        if current:
            (panel if row["panel"] else team).add(case_id)
        elif end is not None and end < today:
            ended[case_id] = max(end, ended.get(case_id, end))
    now = utcnow()
    glass = frozenset(
        row["case_id"]
        for row in intact_rows(
            session,
            BreakGlass,
            BreakGlass.user_id == user.id,
            BreakGlass.started_at <= now,
            BreakGlass.expires_at > now,
        )
    )
    vetting = Vetting.parse(user.vetting)
    status = VettingStatus(vetting, user.vetting_expires)
    clearance = None if user.disabled_at is not None else status.clearance(today)
    for case_id in team | panel:
        ended.pop(case_id, None)
    return Subject(
        user_id=user.id,
        username=user.username,
        role=Role.parse(user.role),
        agency=Agency.parse(user.agency),
        vetting=vetting,
        vetting_expires=user.vetting_expires,
        clearance=clearance,
        nsd_unit=user.nsd_unit,
        ct_unit=user.ct_unit,
        team_cases=frozenset(team),
        panel_cases=frozenset(panel),
        break_glass_cases=glass,
        ended=ended,
    )
