"""The notification centre on SQLite and PostgreSQL: created in the event's transaction, titled
through the access layer when listed, counted for the header, swept daily."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shareplatform.break_glass.services import take_break_glass
from shareplatform.notifications import services as notes
from shareplatform.records.services import NewRecord, correct_record, post_record
from tests.factories import ctx_for
from tests.integration.mappa_world import build_world, decide, decision_data, disclosure, meeting
from tests.security import builders


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    notes.connect()  # create_app does this; these tests call the services directly
    w = build_world(platform)
    with platform.transaction() as s:
        builders.user(s, "bg.pp", "PROBATION_PRACTITIONER", "SC", nsd_unit="London")
    return w


def _record(title: str, label: str = "OFFICIAL-SENSITIVE") -> NewRecord:
    return NewRecord("CONTACT_OFFICE", date.today(), label, [], title, "Body text of the record")


def _titles(platform, who: str) -> list[str]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return [i.title for i in notes.my_notifications(ctx_for(platform, s, who))]


def _count(platform, who: str) -> int:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return notes.unread_count(ctx_for(platform, s, who))


def test_another_agencys_new_record_notifies_the_team(world) -> None:  # type: ignore[no-untyped-def]
    p = world.platform
    with p.transaction() as s:
        post_record(world.ctx(s, "pom"), world.case_id, _record("Cell search found a phone"))
    assert _titles(p, "com") == ["New record on case SP-T1: Cell search found a phone"]
    assert _count(p, "com") == 1 and _count(p, "nm") == 1
    assert _titles(p, "pom") == []  # not the author, nor...
    with p.transaction() as s:
        post_record(world.ctx(s, "com"), world.case_id, _record("Office visit, NSD"))
    assert _count(p, "com") == 1  # ...my own agency's record
    with p.transaction() as s:
        notes.mark_all_read(ctx_for(p, s, "com"))
    assert _count(p, "com") == 0 and len(_titles(p, "com")) == 1  # read, still listed


def test_correction_notifies_the_author(world) -> None:  # type: ignore[no-untyped-def]
    p = world.platform
    with p.transaction() as s:
        first = post_record(world.ctx(s, "pom"), world.case_id, _record("First version"))
    with p.transaction() as s:
        correct_record(world.ctx(s, "com"), first.id, _record("Corrected version"), "Wrong date")
    assert "Your record on case SP-T1 was corrected: Corrected version" in _titles(p, "pom")


def test_a_secret_record_never_notifies_outside_the_corridor(world) -> None:  # type: ignore[no-untyped-def]
    p = world.platform
    with p.transaction() as s:
        post_record(world.ctx(s, "lro"), world.case_id, _record("SECRET-TITLE", "SECRET"))
    assert _titles(p, "com") == [] and _count(p, "com") == 0
    assert "New record on case SP-T1: SECRET-TITLE" in _titles(p, "honsu")


def test_an_item_i_may_no_longer_see_is_left_out(world) -> None:  # type: ignore[no-untyped-def]
    p = world.platform
    with p.transaction() as s:
        post_record(world.ctx(s, "pom"), world.case_id, _record("Seen, then not"))
    later = date.today() + timedelta(days=400)  # vetting expired by then
    with p.transaction() as s:
        ctx = ctx_for(p, s, "com", later)
        assert notes.unread_count(ctx) == 0 and notes.my_notifications(ctx) == []


def test_actions_assigned_show_what_the_owner_may_see(world) -> None:  # type: ignore[no-untyped-def]
    p = world.platform
    with p.transaction() as s:
        m = meeting(world, s)
        d = disclosure(world, s)
        decide(world, s, decision_data(world, m.id, [d.id]))
    com, lro = _titles(p, "com"), _titles(p, "lro")
    assert any("BREAKOUT-TEXT" in t for t in com)  # a COM sees only the break-out
    assert not any("ACTION-ONE-SECRET" in t for t in com)
    assert any("ACTION-TWO-SECRET" in t and t.startswith("Action assigned") for t in lro)


def test_sweep_overdue_actions_and_expiring_vetting(world) -> None:  # type: ignore[no-untyped-def]
    p = world.platform
    with p.transaction() as s:
        m = meeting(world, s)
        d = disclosure(world, s)
        decide(world, s, decision_data(world, m.id, [d.id]))
    later = date.today() + timedelta(days=350)  # actions overdue; vetting expires in 15 days
    for expected in (True, False):  # the second sweep adds nothing
        with p.transaction() as s:
            done = notes.sweep(s, p.access, p.indexer, later)
        assert (done.overdue > 0 and done.vetting > 0) is expected
    with p.transaction() as s:
        titles = [i.title for i in notes.my_notifications(ctx_for(p, s, "lro", later))]
    assert any(t.startswith("Action overdue") and "ACTION-TWO-SECRET" in t for t in titles)
    assert any(t.startswith("Your security vetting expires on") for t in titles)


def test_break_glass_notifies_the_units_managers(world) -> None:  # type: ignore[no-untyped-def]
    p = world.platform
    with p.transaction() as s:
        take_break_glass(ctx_for(p, s, "bg.pp"), world.case_id, "Urgent risk to a child tonight")
    assert "Emergency access was taken to case SP-T1" in _titles(p, "honsu")
    assert _titles(p, "far") == []  # another unit
    assert _titles(p, "com") == []  # not a reviewer


def test_sweep_counts_an_action_in_progress_as_still_to_do(world) -> None:  # type: ignore[no-untyped-def]
    """An overdue action its owner has started (IN_PROGRESS) is as live as an open one
    (shareplatform/mappa/vocab.py LIVE_STATES); a done one is not."""
    from shareplatform.mappa.models import MappaAction
    from shareplatform.mappa.services import update_action

    p = world.platform
    with p.transaction() as s:
        m = meeting(world, s)
        d = disclosure(world, s)
        decide(world, s, decision_data(world, m.id, [d.id]))
        owned = {a.owner_id: a.id for a in s.query(MappaAction)}
    started, finished = owned[world.ids["lro"]], owned[world.ids["com"]]
    with p.transaction() as s:
        update_action(world.ctx(s, "lro"), started, "IN_PROGRESS")
        update_action(world.ctx(s, "com"), finished, "DONE")
    later = date.today() + timedelta(days=350)
    with p.transaction() as s:
        notes.sweep(s, p.access, p.indexer, later)
    with p.transaction() as s:
        overdue = {
            n.object_id
            for n in s.query(notes.Notification)
            if n.kind == notes.Kinds.ACTION_OVERDUE.value
        }
    assert overdue == {started}
