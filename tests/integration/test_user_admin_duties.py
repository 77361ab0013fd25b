"""Separation of duties in user administration: nobody administers themselves; widening an
account, a MAPPA panel place and a corridor account's recovery take two administrators; the last
policy administrator stays. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from shareplatform.accounts import admin, approvals
from shareplatform.accounts.models import User, UserChangeRequest
from shareplatform.accounts.services import NewUser
from shareplatform.audit.models import AuditEntry
from shareplatform.cases import teams
from shareplatform.cases.models import TeamMembership
from shareplatform.domain.errors import Conflict, InvalidValue, NotPermitted
from shareplatform.platform import Platform
from tests.support.factories import case, ctx_for, user

TODAY = date.today()


def _people(platform: Platform) -> None:
    with platform.transaction() as s:
        for name in ("user.admin", "user.admin2", "user.admin3"):
            user(platform, s, name, role="USER_ADMIN", vetting="BPSS")
        user(platform, s, "policy.admin", role="POLICY_ADMIN", vetting="SC")
        user(platform, s, "com.cole", role="COM", vetting="BPSS", nsd_unit="North")
        honsu = user(platform, s, "honsu.hughes", role="HONSU", vetting="DV", nsd_unit="North")
        case(platform, s, "SP-7001", nsd_unit="North", team=[(honsu, "HONSU")])


def _get(platform: Platform, username: str) -> tuple[str, str, str | None]:
    with platform.transaction() as s:
        u = s.scalars(select(User).where(User.username == username)).one()
        return u.role, u.vetting, u.nsd_unit


def _panel(platform: Platform, username: str) -> list[TeamMembership]:
    with platform.transaction() as s:
        uid = s.scalars(select(User.id).where(User.username == username)).one()
        return list(
            s.scalars(
                select(TeamMembership).where(
                    TeamMembership.user_id == uid, TeamMembership.panel.is_(True)
                )
            )
        )


def test_nobody_administers_their_own_account(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        ctx = ctx_for(platform, s, "user.admin")
        for change in (
            admin.Changes(role="HONSU", nsd_unit="North"),
            admin.Changes(vetting="DV"),
            admin.Changes(nsd_unit="North"),
        ):
            with pytest.raises(NotPermitted, match="your own account"):
                admin.update_user(ctx, "user.admin", change, "promote me")
        with pytest.raises(NotPermitted, match="your own account"):
            admin.reset_sign_in(ctx, "user.admin", "me")
        with pytest.raises(NotPermitted, match="your own account"):
            admin.reset_second_factor(ctx, "user.admin", "me")
        with pytest.raises(NotPermitted, match="your own account"):
            teams.allocate(ctx, "SP-7001", "user.admin", "COM", TODAY)
        with pytest.raises(NotPermitted, match="your own account"):
            teams.request_panel_place(ctx, "SP-7001", "user.admin", "HONSU", TODAY, reason="x")
    assert _get(platform, "user.admin") == ("USER_ADMIN", "BPSS", None)


def test_an_administrator_cannot_end_their_own_team_place(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        member, _ = teams.allocate(
            ctx_for(platform, s, "user.admin2"), "SP-7001", "user.admin", "COM", TODAY
        )
        member_id = member.id
    with platform.transaction() as s, pytest.raises(NotPermitted, match="your own account"):
        teams.end_membership(ctx_for(platform, s, "user.admin"), member_id, TODAY, "leaving")


def test_entering_the_corridor_waits_for_a_second_different_administrator(
    platform: Platform,
) -> None:
    _people(platform)
    with platform.transaction() as s:
        ctx = ctx_for(platform, s, "user.admin")
        with pytest.raises(InvalidValue, match="reason"):
            admin.update_user(ctx, "com.cole", admin.Changes(role="HONSU"))
    with platform.transaction() as s:
        asked = admin.update_user(
            ctx_for(platform, s, "user.admin"),
            "com.cole",
            admin.Changes(role="HONSU", vetting="DV"),
            "appointed HoNSU North",
        )
    assert not asked.applied and asked.request_id is not None
    assert "corridor" in asked.message and "SECRET" in asked.message
    assert _get(platform, "com.cole") == ("COM", "BPSS", "North")  # nothing applied yet
    with platform.transaction() as s:
        [waiting] = approvals.pending(ctx_for(platform, s, "user.admin2"))
        assert waiting.kind == "update" and "HONSU" in waiting.summary and not waiting.mine
        assert approvals.pending(ctx_for(platform, s, "user.admin"))[0].mine
    with platform.transaction() as s, pytest.raises(NotPermitted, match="different"):
        approvals.approve(ctx_for(platform, s, "user.admin"), asked.request_id)
    with platform.transaction() as s, pytest.raises(NotPermitted):
        approvals.approve(ctx_for(platform, s, "com.cole"), asked.request_id)
    with platform.transaction() as s:
        approvals.approve(ctx_for(platform, s, "user.admin2"), asked.request_id)
    assert _get(platform, "com.cole") == ("HONSU", "DV", "North")
    with platform.transaction() as s, pytest.raises(Conflict):
        approvals.approve(ctx_for(platform, s, "user.admin3"), asked.request_id)
    with platform.transaction() as s:
        row = s.get(UserChangeRequest, asked.request_id)
        assert row is not None and row.status == "approved"
        actions = [
            (e.action, e.actor)
            for e in s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_(["user.request", "user.approve", "user.update"]))
                .where(AuditEntry.outcome == "done")
                .order_by(AuditEntry.seq)
            )
        ]
    assert actions == [
        ("user.request", "user.admin"),
        ("user.approve", "user.admin2"),
        ("user.update", "user.admin2"),
    ]


def test_the_subject_of_a_request_cannot_approve_it(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        asked = admin.update_user(
            ctx_for(platform, s, "user.admin"),
            "user.admin2",
            admin.Changes(vetting="SC"),
            "needs SECRET for audits",
        )
    assert not asked.applied and asked.request_id is not None
    with platform.transaction() as s, pytest.raises(NotPermitted, match="about you"):
        approvals.approve(ctx_for(platform, s, "user.admin2"), asked.request_id)
    assert _get(platform, "user.admin2")[1] == "BPSS"
    with platform.transaction() as s:
        approvals.approve(ctx_for(platform, s, "user.admin3"), asked.request_id)
    assert _get(platform, "user.admin2")[1] == "SC"


def test_refused_and_withdrawn_requests_change_nothing(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        first = admin.update_user(
            ctx_for(platform, s, "user.admin"), "com.cole", admin.Changes(vetting="SC"), "why"
        )
        with pytest.raises(Conflict):  # the same request twice
            admin.update_user(
                ctx_for(platform, s, "user.admin"), "com.cole", admin.Changes(vetting="SC"), "x"
            )
    assert first.request_id is not None
    with platform.transaction() as s:
        with pytest.raises(NotPermitted):  # only its maker withdraws
            approvals.withdraw(ctx_for(platform, s, "user.admin2"), first.request_id)
        with pytest.raises(InvalidValue):  # a refusal says why
            approvals.refuse(ctx_for(platform, s, "user.admin2"), first.request_id, "")
    with platform.transaction() as s:
        approvals.refuse(ctx_for(platform, s, "user.admin2"), first.request_id, "no vetting")
    with platform.transaction() as s:
        second = admin.update_user(
            ctx_for(platform, s, "user.admin"), "com.cole", admin.Changes(vetting="SC"), "again"
        )
        assert second.request_id is not None
        approvals.withdraw(ctx_for(platform, s, "user.admin"), second.request_id)
    with platform.transaction() as s:
        assert approvals.pending(ctx_for(platform, s, "user.admin2")) == []
        with pytest.raises(Conflict):
            approvals.approve(ctx_for(platform, s, "user.admin2"), second.request_id)
    assert _get(platform, "com.cole")[1] == "BPSS"


def test_one_administrator_makes_changes_that_widen_nothing(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        done = admin.update_user(
            ctx_for(platform, s, "user.admin"),
            "honsu.hughes",
            admin.Changes(role="COM", vetting="SC"),  # out of the corridor: narrower
        )
    assert done.applied and _get(platform, "honsu.hughes") == ("COM", "SC", "North")


def test_creating_a_corridor_account_takes_two_administrators(platform: Platform) -> None:
    _people(platform)
    data = NewUser("honsu.new", "Hal New", "HONSU", "DV", None, nsd_unit="North")
    with platform.transaction() as s:
        asked = admin.add_user(ctx_for(platform, s, "user.admin"), data, "new HoNSU")
    assert not asked.applied and asked.code and asked.request_id is not None
    with platform.transaction() as s:
        assert s.scalar(select(User).where(User.username == "honsu.new")) is None
        approvals.approve(ctx_for(platform, s, "user.admin2"), asked.request_id)
    assert _get(platform, "honsu.new") == ("HONSU", "DV", "North")


def test_a_panel_place_takes_two_administrators(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s:
        ctx = ctx_for(platform, s, "user.admin")
        with pytest.raises(NotPermitted, match="second administrator"):
            teams.allocate(ctx, "SP-7001", "com.cole", "COM", TODAY, panel=True)
        asked = teams.request_panel_place(
            ctx, "SP-7001", "com.cole", "COM", TODAY, reason="sits on the panel"
        )
    assert _panel(platform, "com.cole") == []
    with platform.transaction() as s, pytest.raises(NotPermitted):
        approvals.approve(ctx_for(platform, s, "user.admin"), asked.id)
    with platform.transaction() as s:
        approvals.approve(ctx_for(platform, s, "user.admin2"), asked.id)
    [place] = _panel(platform, "com.cole")
    assert place.capacity == "COM" and place.start_date == TODAY


def test_the_last_policy_administrator_stays(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as s, pytest.raises(NotPermitted, match="access policy"):
        admin.disable_user(ctx_for(platform, s, "user.admin"), "policy.admin", "left")
    with platform.transaction() as s, pytest.raises(NotPermitted, match="access policy"):
        admin.update_user(
            ctx_for(platform, s, "user.admin"), "policy.admin", admin.Changes(role="COM")
        )
    with platform.transaction() as s:
        assert (
            s.scalars(select(User).where(User.username == "policy.admin")).one().disabled_at is None
        )
        user(platform, s, "policy.admin2", role="POLICY_ADMIN", vetting="SC")
    with platform.transaction() as s:
        admin.disable_user(ctx_for(platform, s, "user.admin"), "policy.admin", "left")
    with platform.transaction() as s, pytest.raises(NotPermitted, match="access policy"):
        admin.disable_user(ctx_for(platform, s, "user.admin"), "policy.admin2", "left too")
