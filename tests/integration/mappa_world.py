"""A small case with a MAPPA panel for the decision-log tests (real users, keys and policy)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from shareplatform.accounts.services import NewUser, create_user
from shareplatform.cases.services import add_member, add_nominal, open_case
from shareplatform.mappa import models as m
from shareplatform.mappa.services import (
    Attendee,
    NewAction,
    NewBreakout,
    NewDecision,
    NewDisclosure,
    NewMeeting,
    prepare_decision,
    record_decision,
    record_disclosure,
    record_meeting,
)
from tests.factories import ctx_for

# username -> (role, vetting, nsd unit, ct unit, membership: "panel" | "team" | None)
PEOPLE = {
    "honsu": ("HONSU", "SC", "North", None, "panel"),
    "lro": ("LRO", "DV", None, "CTP North East", "panel"),
    "sol": ("SOL", "SC", "North", None, "panel"),
    "admin": ("MAPPA_ADMIN", "BPSS", "North", None, "panel"),
    "com": ("COM", "SC", "North", None, "team"),
    "pom": ("POM", "BPSS", None, None, "team"),
    "nm": ("NOMINAL_MANAGER", "SC", None, "CTP North East", "team"),
    "sol2": ("SOL", "SC", "North", None, None),  # oversight of the unit, not on the panel
    "far": ("HONSU", "SC", "London", None, None),  # another unit entirely
    "auditor": ("AUDITOR", "SC", None, None, None),
}
TABLES = (
    m.MappaMeeting,
    m.MeetingClosedPart,
    m.Disclosure,
    m.MappaDecision,
    m.MappaAction,
    m.ActionStatus,
    m.Breakout,
)


@dataclass
class World:
    platform: object
    case_id: uuid.UUID
    ids: dict[str, uuid.UUID]

    def ctx(self, session, who: str, today: date | None = None):  # type: ignore[no-untyped-def]
        return ctx_for(self.platform, session, who, today)  # type: ignore[arg-type]


def build_world(platform) -> World:  # type: ignore[no-untyped-def]
    today = date.today()
    start = today - timedelta(days=400)
    with platform.transaction() as s:
        users = {}
        for name, (role, vetting, nsd, ctu, _) in PEOPLE.items():
            users[name] = create_user(
                s,
                NewUser(
                    name,
                    name.title() + " Person",
                    role,
                    vetting,
                    today + timedelta(days=365),
                    nsd_unit=nsd,
                    ct_unit=ctu,
                ),
            )
        nominal = add_nominal(
            s, platform.system_writer, platform.indexer, given_name="Test", family_name="Nominal"
        )
        case = open_case(
            s,
            platform.system_writer,
            nominal=nominal,
            reference="SP-T1",
            category="TERRORIST",
            phase="COMMUNITY",
            lead_agency="NSD",
            nsd_unit="North",
            ct_unit="CTP North East",
        )
        s.flush()
        for name, (role, *_rest, membership) in PEOPLE.items():
            if membership:
                add_member(s, case, users[name].id, role, start, panel=membership == "panel")
        ids = {n: u.id for n, u in users.items()}
        return World(platform, case.id, ids)


def meeting(
    world: World,
    session,
    who: str = "honsu",
    closed: str = "Closed part: SECRET-CLOSED-TEXT",
    today: date | None = None,
) -> m.MappaMeeting:  # type: ignore[no-untyped-def]
    ctx = world.ctx(session, who, today)
    return record_meeting(
        ctx,
        world.case_id,
        NewMeeting(
            "MAPPA_L3",
            ctx.today - timedelta(days=1),
            world.ids["honsu"],
            world.ids["lro"],
            [
                Attendee("NSD", "HONSU", user_id=world.ids["honsu"], closed_part=True),
                Attendee("CTNM", "LRO", user_id=world.ids["lro"], closed_part=True),
                Attendee("NSD", "COM", user_id=world.ids["com"]),
            ],
            "Open part: OPEN-PART-TEXT. Reviewed licence compliance.",
            closed,
        ),
    )


def disclosure(world: World, session, who: str = "honsu", **kw) -> m.Disclosure:  # type: ignore[no-untyped-def]
    ctx = world.ctx(session, who)
    data = dict(
        originator="SECURITY_SERVICE",
        originator_reference="SS/2025/REF-77",
        received_by_id=world.ids["honsu"],
        received_at=datetime.now(UTC) - timedelta(hours=3),
        handling="Do not disseminate",
        summary="DISCLOSURE-SUMMARY-TEXT",
    )
    data.update(kw)
    return record_disclosure(ctx, world.case_id, NewDisclosure(**data))  # type: ignore[arg-type]


def decision_data(
    world: World, meeting_id, disclosure_ids, today: date | None = None, **kw
) -> NewDecision:  # type: ignore[no-untyped-def]
    today = today or date.today()
    data = dict(
        meeting_id=meeting_id,
        disclosure_ids=list(disclosure_ids),
        decision="DECISION-TEXT: increase unannounced home visits",
        rationale="RATIONALE-TEXT: the disclosure",
        options="OPTIONS-TEXT: recall considered and rejected",
        caveats=("ORCON",),
        actions=[
            NewAction(
                "ACTION-ONE-SECRET: visit with police within 48 hours",
                world.ids["com"],
                today + timedelta(days=3),
                NewBreakout(
                    "BREAKOUT-TEXT: please arrange an unannounced home visit this week",
                    consent_from="Security Service desk officer",
                    consent_reference="C-12",
                    consent_on=today,
                ),
            ),
            NewAction(
                "ACTION-TWO-SECRET: brief the CT unit", world.ids["lro"], today + timedelta(days=20)
            ),
        ],
    )
    data.update(kw)
    return NewDecision(**data)  # type: ignore[arg-type]


def decide(
    world: World, session, data: NewDecision, who: str = "honsu", today: date | None = None
) -> m.MappaDecision:  # type: ignore[no-untyped-def]
    ctx = world.ctx(session, who, today)
    prepared = prepare_decision(ctx, world.case_id, data)
    return record_decision(ctx, world.case_id, data, prepared.token)


def counts(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in TABLES}
