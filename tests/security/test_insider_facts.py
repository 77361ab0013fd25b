"""An insider with write access to the database, but not the keys, edits the facts access
decisions read. Each edit is refused or detected: the object it touches fails closed on its own
(withheld with a marker, audited), everything else keeps working. On SQLite and PostgreSQL.

The stamps are made and checked by shareplatform/crypto/attested.py.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import Uuid, bindparam, select, text

from shareplatform.access.store import load_rules, replace_rules
from shareplatform.accounts.models import User
from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case
from shareplatform.domain.errors import IntegrityFailure, NotFound
from shareplatform.records.services import record_page, timeline
from tests.factories import app_for, ctx_for
from tests.security import builders

ID = bindparam("id", type_=Uuid())


def sql(platform, statement: str, **params) -> None:  # type: ignore[no-untyped-def]
    binds = [bindparam(k, type_=Uuid()) for k, v in params.items() if isinstance(v, uuid.UUID)]
    with platform.db.engine.begin() as conn:
        conn.execute(text(statement).bindparams(*binds), params)


def user_id(platform, username: str) -> uuid.UUID:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return s.scalar(select(User.id).where(User.username == username))  # type: ignore[no-any-return]


def failures(platform) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "integrity.fail")))


@pytest.fixture
def small(platform):  # type: ignore[no-untyped-def]
    return builders.small_world(platform)


def test_untouched_world_reads(platform, small) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        items = timeline(ctx_for(platform, s, small.honsu), small.case_id).items
    assert len(items) == 6 and not any(getattr(i, "integrity_failure", False) for i in items)
    assert failures(platform) == []


@pytest.mark.parametrize(
    "column, value",
    [
        ("role", "'HONSU'"),
        ("vetting", "'DV'"),
        ("nsd_unit", "'London'"),
        ("ct_unit", "'CTP North East'"),
    ],
)
def test_a_users_forged_role_clearance_or_unit_stops_the_account(
    platform, small, column: str, value: str
) -> None:  # type: ignore[no-untyped-def]
    """A COM made a HoNSU (or DV-cleared, or moved unit) in the database reads nothing."""
    uid = user_id(platform, small.com)
    sql(platform, f"UPDATE users SET {column} = {value} WHERE id = :id", id=uid)
    with platform.transaction() as s, pytest.raises(IntegrityFailure, match="account failed"):
        ctx_for(platform, s, small.com)
    # the rest of the service is unaffected
    with platform.transaction() as s:
        assert len(timeline(ctx_for(platform, s, small.honsu), small.case_id).items) == 6


def _token(platform, username: str) -> str:  # type: ignore[no-untyped-def]
    from shareplatform.accounts import tokens

    with platform.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        _, raw = tokens.create_token(
            s, platform.access, user, "insider test", "read-write", 1, by_system=True
        )
    return raw  # type: ignore[no-any-return]


def _records_api(platform, token: str, case_id: uuid.UUID):  # type: ignore[no-untyped-def]
    app = app_for(platform)
    try:
        return app.test_client().get(
            f"/api/v1/cases/{case_id}/records", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        app.extensions["shareplatform"].close()


def test_a_forged_account_answers_with_an_integrity_problem(platform, small) -> None:  # type: ignore[no-untyped-def]
    token = _token(platform, small.com)
    sql(platform, "UPDATE users SET role = 'HONSU' WHERE id = :id", id=user_id(platform, small.com))
    r = _records_api(platform, token, small.case_id)
    assert r.status_code == 500 and r.get_json()["type"].endswith("integrity-failure")
    assert "SECRET-ONLY-TEXT" not in r.get_data(as_text=True)
    assert [e.object_type for e in failures(platform)] == ["users"]


def test_a_forged_membership_gives_nothing(platform, small) -> None:  # type: ignore[no-untyped-def]
    """A frontline user added to the panel in the database (a copied row with their id)."""
    with platform.transaction() as s:
        outsider = builders.user(s, "s.other", "COM", "SC", nsd_unit="London")
    sql(
        platform,
        "INSERT INTO team_memberships (id, case_id, user_id, capacity, panel, lead, start_date,"
        " created_at, facts_mac) SELECT :new, case_id, :who, capacity, panel, lead, start_date,"
        " created_at, facts_mac FROM team_memberships WHERE capacity = 'HONSU'",
        new=uuid.uuid4(),
        who=outsider,
    )
    with platform.transaction() as s:
        ctx = ctx_for(platform, s, "s.other")
        assert small.case_id not in ctx.subject.panel_cases
        with pytest.raises(NotFound):
            timeline(ctx, small.case_id)
    assert any(e.object_type == "facts" for e in failures(platform))  # audited as well as logged


def test_a_membership_moved_to_another_user_is_dropped(platform, small) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        outsider = builders.user(s, "s.other", "COM", "SC", nsd_unit="London")
    sql(
        platform,
        "UPDATE team_memberships SET user_id = :who WHERE capacity = 'COM'",
        who=outsider,
    )
    with platform.transaction() as s:
        assert small.case_id not in ctx_for(platform, s, "s.other").subject.team_cases


def _open_other_case(platform) -> uuid.UUID:  # type: ignore[no-untyped-def]
    today = date.today()
    with platform.transaction() as s:
        com = builders.user(s, "o.com", "COM", "SC", nsd_unit="London")
        other = builders.case(platform, s, "O-1", nsd_unit="London", ct_unit="CTP London")
        builders.members(
            s,
            [
                {
                    "case_id": other.id,
                    "user_id": com,
                    "capacity": "COM",
                    "start_date": today - timedelta(days=5),
                }
            ],
        )
        return other.id


def test_a_record_moved_to_another_case_is_withheld_there(platform, small) -> None:  # type: ignore[no-untyped-def]
    other = _open_other_case(platform)
    moved = small.official_ids[0]
    sql(platform, "UPDATE records SET case_id = :c WHERE id = :id", c=other, id=moved)
    with platform.transaction() as s:
        items = timeline(ctx_for(platform, s, "o.com"), other).items
    assert len(items) == 1 and items[0].integrity_failure  # type: ignore[union-attr]
    assert "Plain office contact" not in repr(items)


@pytest.mark.parametrize(
    "change",
    [
        "record_type = 'CONTACT_OFFICE'",  # a SECRET minute retyped
        "released_at = originating_agency",  # any value: ORCON "released"
        "author_id = (SELECT id FROM users WHERE username = 's.com')",
        "facts_mac = NULL",  # the stamp removed
    ],
)
def test_a_records_forged_fact_marks_that_record_only(platform, small, change: str) -> None:  # type: ignore[no-untyped-def]
    target = small.secret_ids[0]
    if "released_at" in change:
        change = "released_at = created_at"
    sql(platform, f"UPDATE records SET {change} WHERE id = :id", id=target)
    with platform.transaction() as s:
        ctx = ctx_for(platform, s, small.honsu)
        items = timeline(ctx, small.case_id).items
        with pytest.raises(IntegrityFailure):
            record_page(ctx, target)
    marked = [i for i in items if getattr(i, "integrity_failure", False)]
    readable = [i for i in items if hasattr(i, "body")]
    assert len(marked) == 1 and len(readable) == 5
    assert all(str(target) in e.detail for e in failures(platform))


def test_a_case_with_forged_units_fails_closed(platform, small) -> None:  # type: ignore[no-untyped-def]
    sql(platform, "UPDATE cases SET nsd_unit = 'London' WHERE id = :id", id=small.case_id)
    with platform.transaction() as s, pytest.raises(IntegrityFailure):
        timeline(ctx_for(platform, s, small.honsu), small.case_id)


def test_the_api_timeline_marks_a_tampered_record(platform, small) -> None:  # type: ignore[no-untyped-def]
    token = _token(platform, small.honsu)
    sql(
        platform,
        "UPDATE records SET record_type = 'CONTACT_OFFICE' WHERE id = :id",
        id=small.secret_ids[0],
    )
    r = _records_api(platform, token, small.case_id)
    assert r.status_code == 200, r.get_data(as_text=True)
    items = r.get_json()["items"]
    assert sum(i["integrity_failure"] for i in items) == 1 and len(items) == 6


def test_a_live_policy_edited_in_the_database_is_refused(platform, small) -> None:  # type: ignore[no-untyped-def]
    """Removing a deny line and bumping the version: the kernel refuses to load the policy."""
    with platform.transaction() as s:
        before = len(load_rules(s))
    sql(platform, "DELETE FROM policy_rules WHERE v5 = 'deny' AND v0 = 'frontline'")
    sql(platform, "UPDATE policy_state SET version = version + 1")
    platform.access.invalidate()
    with platform.transaction() as s, pytest.raises(IntegrityFailure, match="access policy"):
        timeline(ctx_for(platform, s, small.com), small.case_id)
    # restoring through the policy service mends it
    from shareplatform.access import policy_files

    with platform.transaction() as s:
        replace_rules(s, policy_files.read())
        assert len(load_rules(s)) == before
    platform.access.invalidate()
    with platform.transaction() as s:
        assert timeline(ctx_for(platform, s, small.com), small.case_id).items


def test_a_stamp_cannot_be_laundered_by_a_later_service_write(platform, small) -> None:  # type: ignore[no-untyped-def]
    uid = user_id(platform, small.com)
    sql(platform, "UPDATE users SET role = 'HONSU' WHERE id = :id", id=uid)
    with pytest.raises(IntegrityFailure), platform.transaction() as s:
        user = s.get(User, uid)
        assert user is not None and not user.facts_intact
        user.display_name = "renamed"  # not a fact, but the row's facts are forged
        user.role = "COM"  # a fact: re-stamping here would launder the forgery
        s.flush()


def test_adoption_stamps_old_rows_once_only(platform, small) -> None:  # type: ignore[no-untyped-def]
    writer = platform.system_writer
    with platform.transaction() as s:
        assert writer.adopt_facts(s) == 0  # a fresh database: nothing to adopt, and recorded
    sql(
        platform,
        "UPDATE cases SET facts_mac = NULL, nsd_unit = 'London' WHERE id = :id",
        id=small.case_id,
    )
    with platform.transaction() as s:
        assert writer.adopt_facts(s) is None  # never again: a stripped stamp stays stripped
        case = s.get(Case, small.case_id)
        assert case is not None and not case.facts_intact


def test_a_token_moved_to_another_user_opens_nothing(platform, small) -> None:  # type: ignore[no-untyped-def]
    """A COM's API token re-pointed at the HoNSU in the database is refused, not upgraded."""
    token = _token(platform, small.com)
    sql(
        platform,
        "UPDATE api_tokens SET user_id = :who",
        who=user_id(platform, small.honsu),
    )
    r = _records_api(platform, token, small.case_id)
    assert r.status_code == 401
    assert "SECRET-ONLY-TEXT" not in r.get_data(as_text=True)
