"""User administration: create, change, disable (sessions end), resets, vetting, permission."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.accounts import admin
from shareplatform.accounts.models import User, UserSession
from shareplatform.accounts.secrets import check_password
from shareplatform.accounts.services import NewUser
from shareplatform.audit.models import AuditEntry
from shareplatform.domain.errors import InvalidValue, NotPermitted
from shareplatform.platform import Platform
from tests.support.factories import ctx_for, user

TODAY = date.today()


def _people(platform: Platform) -> None:
    with platform.transaction() as session:
        user(platform, session, "user.admin", role="USER_ADMIN", vetting="BPSS", name="Uma")
        for name, days in (("com.soon", 10), ("com.later", 200), ("com.gone", -3)):
            user(
                platform,
                session,
                name,
                role="COM",
                expires=TODAY + timedelta(days=days),
                nsd_unit="North",
                password="a long password!",
            )
        later = session.scalar(select(User).where(User.username == "com.later"))
        assert later is not None
        for n in range(3):
            session.add(
                UserSession(
                    id_hash=hashlib.sha256(f"s{n}".encode()).hexdigest(),
                    user_id=later.id,
                    mfa_done=True,
                )
            )


def _open_sessions(platform: Platform, username: str) -> int:
    with platform.transaction() as session:
        uid = session.scalar(select(User.id).where(User.username == username))
        return len(
            session.scalars(
                select(UserSession).where(
                    UserSession.user_id == uid, UserSession.ended_at.is_(None)
                )
            ).all()
        )


def test_disable_ends_every_session_at_once_and_the_kernel_denies(platform: Platform) -> None:
    _people(platform)
    assert _open_sessions(platform, "com.later") == 3
    with platform.transaction() as session:
        ended = admin.disable_user(
            ctx_for(platform, session, "user.admin"), "com.later", "left the service"
        )
    assert ended == 3 and _open_sessions(platform, "com.later") == 0
    with platform.transaction() as session:
        subject = ctx_for(platform, session, "com.later").subject
        assert subject.clearance is None  # a disabled user reads nothing, whatever their vetting
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "user.disable", AuditEntry.outcome == "done"
            )
        ).one()
        assert (
            entry.reason == "left the service" and json.loads(entry.detail)["sessions_ended"] == 3
        )
        with pytest.raises(InvalidValue):
            admin.disable_user(ctx_for(platform, session, "user.admin"), "user.admin", "oops")


def test_reset_second_factor_forces_re_enrolment_and_ends_sessions(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as session:
        admin.reset_second_factor(ctx_for(platform, session, "user.admin"), "com.later")
    with platform.transaction() as session:
        user = session.scalar(select(User).where(User.username == "com.later"))
        assert (
            user is not None
            and user.must_enrol
            and user.totp_secret_sealed is None
            and user.totp_last_step is None
        )
    assert _open_sessions(platform, "com.later") == 0


def test_reset_sign_in_kills_the_password_and_sets_none(platform: Platform) -> None:
    """The administrator gets a one-time code, never a password (tests/integration/
    test_account_recovery.py follows the code through)."""
    _people(platform)
    with platform.transaction() as session:
        done = admin.reset_sign_in(ctx_for(platform, session, "user.admin"), "com.soon")
    assert done.applied and done.code
    with platform.transaction() as session:
        user = session.scalar(select(User).where(User.username == "com.soon"))
        assert user is not None and user.password_hash is None
        assert not check_password(user.password_hash, "a long password!")
        assert not check_password(user.password_hash, done.code)


def test_create_and_update_user(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "user.admin")
        made = admin.add_user(
            ctx, NewUser("pom.new", "Pat New", "POM", "BPSS", TODAY + timedelta(days=90))
        )
        user = made.user
        assert made.applied and user is not None and len(made.code) >= 26
        assert user.must_enrol and user.password_hash is None and user.agency == "PRISON"
        with pytest.raises(InvalidValue, match="already taken"):
            admin.add_user(ctx, NewUser("pom.new", "Again", "POM", "BPSS", None))
        admin.update_user(
            ctx,
            "pom.new",
            admin.Changes(
                role="COM",
                vetting="CTC",
                nsd_unit="North",
                vetting_expires=TODAY + timedelta(days=20),
            ),
        )
        with pytest.raises(InvalidValue):
            admin.update_user(ctx, "pom.new", admin.Changes(nsd_unit="Atlantis"))
    with platform.transaction() as session:
        found = session.scalar(select(User).where(User.username == "pom.new"))
        assert found is not None and (found.role, found.agency, found.vetting, found.nsd_unit) == (
            "COM",
            "NSD",
            "CTC",
            "North",
        )
        changed = json.loads(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "user.update", AuditEntry.outcome == "done"
                )
            )
            .one()
            .detail
        )["changed"]
        assert changed["role"] == ["POM", "COM"] and changed["agency"] == ["PRISON", "NSD"]


def test_vetting_report_lists_expiring_and_expired(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as session:
        report = admin.vetting_report(ctx_for(platform, session, "user.admin"))
        assert [r.username for r in report.expiring] == ["com.soon"]
        assert [r.username for r in report.expired] == ["com.gone"]
        assert (
            ctx_for(platform, session, "com.gone").subject.clearance is None
        )  # the kernel already denies


def test_only_user_administrators_manage_users(platform: Platform) -> None:
    _people(platform)
    with platform.transaction() as session, pytest.raises(NotPermitted):
        admin.disable_user(ctx_for(platform, session, "com.soon"), "com.later", "not mine to do")
    assert _open_sessions(platform, "com.later") == 3


def test_user_admin_lists_finds_and_reports_over_everyone(platform: Platform) -> None:
    people = [
        ("user.admin", "Uma Adler", "USER_ADMIN", "BPSS", {}),
        ("policy.admin", "Pat Adeyemi", "POLICY_ADMIN", "SC", {}),
        ("pom.parker", "Priya Parker", "POM", "CTC", {}),
        ("pom.quinn", "Quentin Quinn", "POM", "BPSS", {}),
        ("pp.price", "Paul Price", "PROBATION_PRACTITIONER", "BPSS", {"nsd_unit": "North"}),
        ("honsu.hughes", "Helen Hughes", "HONSU", "DV", {"nsd_unit": "North"}),
        ("nm.nash", "Nadia Nash", "NOMINAL_MANAGER", "SC", {"ct_unit": "CTP North East"}),
        ("com.expired", "Evan Expired", "COM", "SC", {"nsd_unit": "North"}),
    ]
    with platform.transaction() as session:
        for username, name, role, vetting, units in people:
            user(
                platform,
                session,
                username,
                name=name,
                role=role,
                vetting=vetting,
                expires=TODAY - timedelta(days=12) if username == "com.expired" else None,
                **units,
            )
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "user.admin")
        assert [r.username for r in admin.vetting_report(ctx).expired] == ["com.expired"]
        assert len(admin.users(ctx)) == len(admin.users(ctx, "")) == len(people)
        assert [r.username for r in admin.users(ctx, "parker")] == ["pom.parker"]
        with pytest.raises(NotPermitted):
            admin.users(ctx_for(platform, session, "policy.admin"))
