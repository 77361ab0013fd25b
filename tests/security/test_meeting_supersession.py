"""Correcting and withdrawing a MAPPA meeting (shareplatform/mappa/meetings.py `_supersede`):

- which meeting a correction points at is a stamped fact: re-pointed or cleared in the database,
  the supersession fails its check, is audited, and the meetings it names are shown with an
  integrity marker, never silently as standing, withdrawn or corrected by another;
- a correction replaces every part of a meeting, so one who may not write the SECRET closed part
  (a MAPPA administrator) may not correct any meeting: nothing is written, the refusal audited;
- two corrections racing for one meeting: the loser gets the "already corrected" answer, with
  nothing of its own left behind, not a database error.

SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import LargeBinary, Uuid, bindparam, func, select, text

from shareplatform.audit.models import AuditEntry
from shareplatform.domain.errors import InvalidValue, NotPermitted
from shareplatform.mappa import meetings as meetings_module
from shareplatform.mappa import models as m
from shareplatform.mappa.services import (
    Attendee,
    NewMeeting,
    correct_meeting,
    meeting_view,
    meetings_for_case,
    withdraw_meeting,
)
from tests.integration.mappa_world import build_world, meeting

ID = bindparam("id", type_=Uuid())
TARGET = bindparam("target", type_=Uuid())
MAC = bindparam("mac", type_=LargeBinary())


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    world = build_world(platform)
    with platform.transaction() as s:
        first, spare = meeting(world, s), meeting(world, s)
        fixed = correct_meeting(world.ctx(s, "honsu"), first.id, _fixed(world), "Wrong date")
    world.ids.update(first=first.id, spare=spare.id, fixed=fixed.id)
    return world


def _fixed(world, minutes: str = "Open part: CORRECTED-OPEN-TEXT.") -> NewMeeting:  # type: ignore[no-untyped-def]
    return NewMeeting(
        "CORE_GROUP",
        meetings_module.utcnow().date() - timedelta(days=2),
        world.ids["sol"],
        None,
        [Attendee("NSD", "SOL", user_id=world.ids["sol"])],
        minutes,
    )


def _sql(platform, statement: str, **params) -> None:  # type: ignore[no-untyped-def]
    binds = [b for b in (ID, TARGET, MAC) if b.key in params]
    with platform.db.engine.begin() as conn:
        conn.execute(text(statement).bindparams(*binds), params)


def _counts(platform) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return (
            s.scalar(select(func.count()).select_from(m.MappaMeeting)),
            s.scalar(select(func.count()).select_from(m.MeetingSupersession)),
        )


# -- the replacement is a stamped fact -------------------------------------------------------------
def test_an_intact_correction_reads_as_before(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        ctx = world.ctx(s, "com")
        old = meeting_view(ctx, world.ids["first"])
        assert old.superseded_by == world.ids["fixed"] and not old.integrity
        assert meeting_view(ctx, world.ids["fixed"]).corrects == world.ids["first"]


@pytest.mark.parametrize("target", ["withdrawn", "another meeting"])
def test_a_re_pointed_correction_is_marked_and_audited(world, target: str) -> None:  # type: ignore[no-untyped-def]
    """Set to NULL the correction would read as a withdrawal; pointed at another meeting, that
    meeting would read as the correction. Either way the row fails its stamp."""
    to = None if target == "withdrawn" else world.ids["spare"]
    _sql(
        world.platform,
        "UPDATE mappa_meeting_supersessions SET replacement_id = :target WHERE meeting_id = :id",
        id=world.ids["first"],
        target=to,
    )
    with world.platform.transaction() as s:
        ctx = world.ctx(s, "com")  # on the team: reads open meetings
        old = meeting_view(ctx, world.ids["first"])
        assert "integrity check" in old.integrity
        assert not old.withdrawn and old.superseded_by is None  # nothing believed of the row
        listed = {v.id: v for v in meetings_for_case(ctx, world.case_id)}
        assert listed[world.ids["first"]].integrity
        assert listed[world.ids["spare"]].corrects is None
        assert bool(listed[world.ids["spare"]].integrity) == (to is not None)
    with world.platform.transaction() as s:
        failures = s.scalars(select(AuditEntry).where(AuditEntry.action == "integrity.fail")).all()
    assert failures and all(e.outcome == "fail" for e in failures)
    assert all("mappa_meeting_supersessions" in str(e.detail) for e in failures)


def test_pages_show_the_marker_and_offer_correction_only_to_the_closed_part_s_writers(
    seeded,
) -> None:  # type: ignore[no-untyped-def]
    """Through the web (demo data, SQLite): the tampered meeting's page and the case's list carry
    the marker; a MAPPA administrator is offered withdrawal only, and refused the correction."""
    from shareplatform.cases.models import Case
    from tests.factories import app_for, ctx_for
    from tests.support.web import sign_in
    from tests.support.web import text as page_text

    with seeded.transaction() as s:
        case = s.scalar(select(Case).where(Case.reference == "SP-1001"))
        sol = ctx_for(seeded, s, "sol.santos")
        data = NewMeeting(
            "CORE_GROUP",
            sol.today,
            sol.subject.user_id,
            None,
            [Attendee("NSD", "SOL", user_id=sol.subject.user_id)],
            "WEB-OPEN-TEXT",
        )
        first = meetings_module.record_meeting(sol, case.id, data)
        other = meetings_module.record_meeting(sol, case.id, data)
        correct_meeting(sol, first.id, data, "Typo")
        case_id, first_id, other_id = case.id, first.id, other.id
    _sql(
        seeded,
        "UPDATE mappa_meeting_supersessions SET replacement_id = :target WHERE meeting_id = :id",
        id=first_id,
        target=None,
    )
    app = app_for(seeded)
    chair = app.test_client()
    sign_in(chair, seeded, "sol.santos")
    page = page_text(chair.get(f"/mappa/meetings/{first_id}"))
    assert "This meeting record is not verified" in page and "has been withdrawn" not in page
    assert "Fails its integrity check" in page_text(chair.get(f"/cases/{case_id}/mappa"))
    assert "Correct this meeting" in page_text(chair.get(f"/mappa/meetings/{other_id}"))
    admin = app.test_client()
    sign_in(admin, seeded, "mappa.morgan")
    page = page_text(admin.get(f"/mappa/meetings/{other_id}"))
    assert "Withdraw this meeting" in page and "Correct this meeting" not in page
    assert admin.get(f"/mappa/meetings/{other_id}/correct").status_code == 403


# -- a correction carries every part: the closed part's writers only -------------------------------
@pytest.mark.parametrize("closed", [True, False])
def test_one_who_may_not_write_the_closed_part_corrects_no_meeting(world, closed: bool) -> None:  # type: ignore[no-untyped-def]
    """Refused whether or not the meeting has a closed part: refusing only those would tell a
    MAPPA administrator which meetings have one."""
    with world.platform.transaction() as s:
        target = meeting(world, s, closed="Closed part: SECRET" if closed else "").id
    before = _counts(world.platform)
    with world.platform.transaction() as s, pytest.raises(NotPermitted, match="every part"):
        correct_meeting(world.ctx(s, "admin"), target, _fixed(world), "Typo in the minutes")
    assert _counts(world.platform) == before
    with world.platform.transaction() as s:
        refused = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "mappa.meeting.correct",
                AuditEntry.object_id == str(target),
                AuditEntry.outcome == "deny",
            )
        ).all()
        assert [e.actor for e in refused] == ["admin"]
        assert meeting_view(world.ctx(s, "honsu"), target).superseded_by is None
    with world.platform.transaction() as s:  # withdrawing still is theirs to do
        withdraw_meeting(world.ctx(s, "admin"), target, "Recorded twice by mistake")


# -- a race for one meeting ------------------------------------------------------------------------
def _compete(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Between the "already done?" check and the insert, another session withdraws the meeting
    and commits (the reason is checked between the two, so it is the hook)."""
    real = meetings_module.need_text
    done: list[bool] = []

    def need_text(*args, **kw):  # type: ignore[no-untyped-def]
        if not done and args and args[0] == "reason":
            done.append(True)
            with world.platform.transaction() as other:
                withdraw_meeting(world.ctx(other, "sol"), world.ids["spare"], "Other session")
        return real(*args, **kw)

    monkeypatch.setattr(meetings_module, "need_text", need_text)


@pytest.mark.parametrize("verb", ["correct", "withdraw"])
def test_a_lost_race_answers_already_done_and_leaves_nothing(world, monkeypatch, verb: str) -> None:  # type: ignore[no-untyped-def]
    _compete(world, monkeypatch)
    before = _counts(world.platform)
    with world.platform.transaction() as s:
        ctx = world.ctx(s, "honsu")
        with pytest.raises(InvalidValue, match="already been corrected or withdrawn"):
            if verb == "correct":
                correct_meeting(ctx, world.ids["spare"], _fixed(world, "LOSER-TEXT"), "Mine")
            else:
                withdraw_meeting(ctx, world.ids["spare"], "Mine")
        # the transaction is still usable, and holds nothing of the loser's
        s.execute(select(1))
    meetings, supersessions = _counts(world.platform)
    assert (meetings, supersessions) == (before[0], before[1] + 1)  # the winner's row only
    with world.platform.transaction() as s:
        row = s.scalar(
            select(m.MeetingSupersession).where(
                m.MeetingSupersession.meeting_id == world.ids["spare"]
            )
        )
        assert row is not None and row.by_id == world.ids["sol"] and row.replacement_id is None
        assert meeting_view(world.ctx(s, "honsu"), world.ids["spare"]).withdrawn


# -- rows stamped before replacement_id was a fact -------------------------------------------------
def test_rows_stamped_before_are_adopted_once_and_forged_ones_are_not(world) -> None:  # type: ignore[no-untyped-def]
    """shareplatform/widened.py: a row whose old stamp (without replacement_id) verifies is
    stamped again, once; a row forged in a fact the old stamp covered is left unverified. (A
    replacement changed before the adoption cannot be told apart: the old stamp never covered
    it, so the adoption runs at the upgrade.)"""
    from shareplatform.crypto.attested import attested_columns, attestor_of
    from shareplatform.widened import adopt_widened_stamps

    def adopt_stamps(s, system):  # type: ignore[no-untyped-def]
        return adopt_widened_stamps(s, system).get("mappa_meeting_supersessions")

    model = m.MeetingSupersession
    legacy = [n for n in attested_columns(model) if n != "replacement_id"]
    with world.platform.transaction() as s:
        withdraw_meeting(world.ctx(s, "honsu"), world.ids["spare"], "Recorded twice")
        attestor = attestor_of(s)
        old = {  # as written before: the old facts only
            row.id: attestor._digest(model, [getattr(row, n) for n in legacy])
            for row in s.scalars(select(model))
        }
    for row_id, mac in old.items():
        _sql(
            world.platform,
            "UPDATE mappa_meeting_supersessions SET facts_mac = :mac WHERE id = :id",
            id=row_id,
            mac=mac,
        )
    _sql(  # then forged in a fact the old stamp covered: who withdrew it
        world.platform,
        "UPDATE mappa_meeting_supersessions SET by_id = :target WHERE meeting_id = :id",
        id=world.ids["spare"],
        target=world.ids["com"],
    )
    with world.platform.transaction() as s:
        assert all(v.integrity for v in meetings_for_case(world.ctx(s, "com"), world.case_id))
    with world.platform.transaction() as s:
        assert adopt_stamps(s, world.platform.system_writer) == 1
    with world.platform.transaction() as s:
        assert adopt_stamps(s, world.platform.system_writer) is None
    with world.platform.transaction() as s:
        listed = {v.id: v for v in meetings_for_case(world.ctx(s, "com"), world.case_id)}
    assert listed[world.ids["fixed"]].corrects == world.ids["first"]  # adopted: reads again
    assert not listed[world.ids["fixed"]].integrity
    assert listed[world.ids["spare"]].integrity and not listed[world.ids["first"]].integrity
