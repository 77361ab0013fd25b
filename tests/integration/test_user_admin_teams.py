"""Team and panel allocation: dates, audit, lead warnings (POM to COM handover)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.accounts import approvals
from shareplatform.accounts.services import NewUser, create_user
from shareplatform.audit.models import AuditEntry
from shareplatform.cases import teams
from shareplatform.cases.services import add_nominal, open_case
from shareplatform.domain.errors import InvalidValue, NotPermitted
from shareplatform.platform import Platform
from tests.factories import ctx_for

TODAY = date.today()


def _setup(platform: Platform, phase: str = "CUSTODY", release: date | None = None) -> None:
    with platform.transaction() as session:
        exp = TODAY + timedelta(days=400)
        create_user(session, NewUser("user.admin", "Uma", "USER_ADMIN", "BPSS", exp))
        create_user(session, NewUser("user.admin2", "Una", "USER_ADMIN", "BPSS", exp))
        create_user(session, NewUser("pom.p", "Pom", "POM", "BPSS", exp))
        create_user(session, NewUser("com.c", "Com", "COM", "SC", exp, nsd_unit="North"))
        create_user(session, NewUser("honsu.h", "Honsu", "HONSU", "SC", exp, nsd_unit="North"))
        nominal = add_nominal(
            session, platform.system_writer, platform.indexer, given_name="A", family_name="B"
        )
        open_case(
            session,
            platform.system_writer,
            nominal=nominal,
            reference="SP-9100",
            category="TERRORIST",
            phase=phase,
            lead_agency="PRISON",
            nsd_unit="North",
            ct_unit="CTP North East",
            release_date=release,
        )


def test_allocation_is_audited_and_gives_need_to_know(platform: Platform) -> None:
    _setup(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "user.admin")
        member, warnings = teams.allocate(
            ctx, "SP-9100", "pom.p", "POM", TODAY - timedelta(days=5), lead=True, confirm=True
        )
        assert warnings == []
        # a panel place reaches SECRET: a second administrator's approval writes it
        asked = teams.request_panel_place(
            ctx, "sp-9100", "honsu.h", "HONSU", TODAY, reason="chairs the panel"
        )
        approvals.approve(ctx_for(platform, session, "user.admin2"), asked.id)
        with pytest.raises(InvalidValue, match="already holds"):
            teams.allocate(ctx, "SP-9100", "pom.p", "POM", TODAY)
    with platform.transaction() as session:
        pom = ctx_for(platform, session, "pom.p").subject
        assert member.case_id in pom.team_cases
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "team.allocate", AuditEntry.outcome == "done"
            )
        ).all()
        assert [json.loads(e.detail)["user"] for e in entries] == ["pom.p", "honsu.h"]
        assert all(e.case_id == str(member.case_id) for e in entries)
        assert [e.actor for e in entries] == ["user.admin", "user.admin2"]
        view = teams.team(ctx_for(platform, session, "user.admin"), "SP-9100")
        assert [(m.username, m.lead, m.panel) for m in view.members] == [
            ("pom.p", True, False),
            ("honsu.h", False, True),
        ]


def test_ending_the_only_lead_warns_and_writes_nothing_until_confirmed(platform: Platform) -> None:
    _setup(platform)
    with platform.transaction() as session:
        member, _ = teams.allocate(
            ctx_for(platform, session, "user.admin"),
            "SP-9100",
            "pom.p",
            "POM",
            TODAY - timedelta(days=30),
            lead=True,
            confirm=True,
        )
    with (
        platform.transaction() as session,
        pytest.raises(teams.NeedsConfirmation, match="no prison offender manager lead"),
    ):
        teams.end_membership(ctx_for(platform, session, "user.admin"), member.id, TODAY, "moved on")
    with platform.transaction() as session:
        view = teams.team(ctx_for(platform, session, "user.admin"), "SP-9100")
        assert view.members[0].end is None and view.warnings == []
        warnings = teams.end_membership(
            ctx_for(platform, session, "user.admin"), member.id, TODAY, "moved on", confirm=True
        )
        assert warnings and "SP-9100" in warnings[0]
    with platform.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "team.end", AuditEntry.outcome == "done")
        ).one()
        assert entry.reason == "moved on" and json.loads(entry.detail)["warnings"] == warnings


def test_pom_to_com_handover_at_release(platform: Platform) -> None:
    release = TODAY + timedelta(days=10)
    _setup(platform, release=release)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "user.admin")
        pom, _ = teams.allocate(
            ctx, "SP-9100", "pom.p", "POM", TODAY - timedelta(days=100), lead=True, confirm=True
        )
    with platform.transaction() as session:
        # the COM takes the lead on release day; the POM's membership ends the day before: no gap
        com, warnings = teams.handover(
            ctx_for(platform, session, "user.admin"),
            "SP-9100",
            pom.id,
            "com.c",
            "COM",
            release,
            reason="release: POM to COM handover",
        )
        assert warnings == []
    with platform.transaction() as session:
        view = teams.team(ctx_for(platform, session, "user.admin"), "SP-9100")
        by_user = {m.username: m for m in view.members}
        assert (
            by_user["pom.p"].end == release - timedelta(days=1)
            and by_user["com.c"].start == release
        )


def test_community_case_needs_a_com_lead(platform: Platform) -> None:
    _setup(platform, phase="COMMUNITY")
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "user.admin")
        assert teams.team(ctx, "SP-9100").warnings  # no lead yet: shown on the team page
        teams.allocate(ctx, "SP-9100", "com.c", "COM", TODAY, lead=True)
        assert teams.team(ctx, "SP-9100").warnings == []


def test_only_user_administrators_allocate(platform: Platform) -> None:
    _setup(platform)
    with platform.transaction() as session, pytest.raises(NotPermitted):
        teams.allocate(
            ctx_for(platform, session, "honsu.h"),
            "SP-9100",
            "honsu.h",
            "HONSU",
            TODAY,
            panel=True,
        )
