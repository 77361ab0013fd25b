"""MAPPA as chairs' work: ordinary decisions without a disclosure, core groups, action statuses
with history and on the case timeline, meetings corrected or withdrawn, corrections pre-filled,
and the closed-part attendance check. Runs on SQLite and PostgreSQL (the `platform` fixture)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.audit.models import AuditEntry
from shareplatform.domain.errors import InvalidValue, NotFound, NotPermitted
from shareplatform.mappa import models as m
from shareplatform.mappa.services import (
    ActionState,
    Attendee,
    NewAction,
    NewDecision,
    NewMeeting,
    action_page,
    case_actions,
    correct_meeting,
    decision_log,
    decision_page,
    meeting_view,
    meetings_for_case,
    prepare_correction,
    prepare_decision,
    record_decision,
    record_meeting,
    update_action,
    withdraw_meeting,
)
from tests.integration.mappa_world import (
    build_world,
    decide,
    decision_data,
    disclosure,
    meeting,
)

TODAY = date.today()


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    return build_world(platform)


def core_group(world, s, chair: str = "sol", attendees=None):  # type: ignore[no-untyped-def]
    ctx = world.ctx(s, "sol")  # a SOL on the panel records it
    return record_meeting(
        ctx,
        world.case_id,
        NewMeeting(
            "CORE_GROUP",
            TODAY - timedelta(days=1),
            world.ids[chair],
            None,
            attendees
            or [
                Attendee("NSD", "SOL", user_id=world.ids["sol"]),
                Attendee("NSD", "COM", user_id=world.ids["com"]),
            ],
            "Core group: CORE-OPEN-TEXT. Reviewed the licence conditions.",
        ),
    )


def ordinary(world, meeting_id, **kw) -> NewDecision:  # type: ignore[no-untyped-def]
    data = dict(
        meeting_id=meeting_id,
        disclosure_ids=[],
        decision="ORDINARY-DECISION: weekly office contacts",
        rationale="ORDINARY-RATIONALE: compliance has slipped",
        actions=[
            NewAction(
                "ORDINARY-ACTION: book weekly contacts", world.ids["com"], TODAY + timedelta(7)
            )
        ],
    )
    data.update(kw)
    return NewDecision(**data)  # type: ignore[arg-type]


def record(world, s, data: NewDecision, who: str = "sol"):  # type: ignore[no-untyped-def]
    ctx = world.ctx(s, who)
    return record_decision(
        ctx, world.case_id, data, prepare_decision(ctx, world.case_id, data).token
    )


# -- 1. decisions with or without a disclosure --
def test_ordinary_decision_label_follows_what_it_rests_on(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        cg = core_group(world, s)
        plain = record(world, s, ordinary(world, cg.id))
        official = record(world, s, ordinary(world, cg.id, classification="OFFICIAL", actions=[]))
        assert plain.classification == "OFFICIAL-SENSITIVE"  # the default with no disclosure
        assert official.classification == "OFFICIAL"
        assert (
            s.scalar(
                select(m.decision_disclosures.c.decision_id).where(
                    m.decision_disclosures.c.decision_id == plain.id
                )
            )
            is None
        )
    with world.platform.transaction() as s, pytest.raises(InvalidValue, match="no disclosure"):
        prepare_decision(
            world.ctx(s, "sol"), world.case_id, ordinary(world, cg.id, classification="SECRET")
        )
    with world.platform.transaction() as s, pytest.raises(InvalidValue, match="ORCON"):
        prepare_decision(
            world.ctx(s, "sol"), world.case_id, ordinary(world, cg.id, caveats=("ORCON",))
        )
    with world.platform.transaction() as s:
        l3, dc = meeting(world, s), disclosure(world, s)
        secret = decide(world, s, decision_data(world, l3.id, [dc.id], actions=[]))
        assert secret.classification == "SECRET" and "ORCON" in secret.caveats


def test_ordinary_decisions_readable_by_team_and_panel_secret_ones_not(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        cg = core_group(world, s)
        dec = record(world, s, ordinary(world, cg.id))
        l3, dc = meeting(world, s), disclosure(world, s)
        secret = decide(world, s, decision_data(world, l3.id, [dc.id], actions=[]))
    for who in ("com", "pom", "admin", "nm", "sol2"):  # team, panel and oversight
        with world.platform.transaction() as s:
            ctx = world.ctx(s, who)
            view, _ = decision_page(ctx, dec.id)
            assert view.decision.startswith("ORDINARY-DECISION") and view.verified
            assert [d.id for d in decision_log(ctx, world.case_id)] == [dec.id]
            with pytest.raises(NotFound):  # the SECRET one answers as an unknown id
                decision_page(ctx, secret.id)
            assert meeting_view(ctx, cg.id).decisions == [dec.id]
            assert meeting_view(ctx, l3.id).decisions == []
    with world.platform.transaction() as s:
        ctx = world.ctx(s, "honsu")  # the corridor on the panel reads both
        assert {d.id for d in decision_log(ctx, world.case_id)} == {dec.id, secret.id}
    for who in ("far", "auditor"):  # outsiders learn nothing
        with world.platform.transaction() as s, pytest.raises(NotFound):
            decision_page(world.ctx(s, who), dec.id)


def test_only_chairs_record_ordinary_decisions(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        cg = core_group(world, s)
    for who, error in (("honsu", NotPermitted), ("com", NotPermitted), ("admin", NotPermitted)):
        with world.platform.transaction() as s, pytest.raises(error):
            prepare_decision(world.ctx(s, who), world.case_id, ordinary(world, cg.id))


# -- 2. core groups --
def test_core_group_meeting_chaired_by_a_sol(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        cg = core_group(world, s)
    with world.platform.transaction() as s:
        view = meeting_view(world.ctx(s, "com"), cg.id)
        assert view.meeting_type.value == "CORE_GROUP" and view.meeting_type.title == "Core group"
        assert view.chair == "Sol Person" and view.co_chair == ""
        assert "CORE-OPEN-TEXT" in view.open_minutes
    with world.platform.transaction() as s, pytest.raises(InvalidValue, match="sterile corridor"):
        core_group(world, s, chair="com")  # a frontline practitioner chairs no core group


# -- 3. actions: statuses, history, the case timeline --
def test_action_statuses_with_history_from_and_to(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        dec = record(world, s, ordinary(world, core_group(world, s).id))
        action_id = s.scalar(select(m.MappaAction.id).where(m.MappaAction.decision_id == dec.id))
    with world.platform.transaction() as s:
        update_action(world.ctx(s, "com"), action_id, "in progress", "Booked the first two")
    with world.platform.transaction() as s, pytest.raises(InvalidValue, match="can move to"):
        update_action(world.ctx(s, "com"), action_id, "in progress")
    with world.platform.transaction() as s, pytest.raises(NotPermitted):
        update_action(world.ctx(s, "pom"), action_id, "done")  # reads it, does not own it
    with world.platform.transaction() as s, pytest.raises(InvalidValue, match="cancelled"):
        update_action(world.ctx(s, "com"), action_id, "cancelled")  # a cancellation needs a note
    with world.platform.transaction() as s:
        update_action(world.ctx(s, "com"), action_id, "done", "All booked")
    with world.platform.transaction() as s, pytest.raises(InvalidValue, match="already done"):
        update_action(world.ctx(s, "com"), action_id, "cancelled", "changed mind")
    with world.platform.transaction() as s:
        view = action_page(world.ctx(s, "pom"), action_id)  # the team reads an ordinary action
        assert view.status is ActionState.DONE and view.case_id == world.case_id
        steps = [(h.from_status, h.status, h.by, h.note) for h in view.history]
        assert steps == [
            (None, ActionState.OPEN, "Sol Person", ""),
            (ActionState.OPEN, ActionState.IN_PROGRESS, "Com Person", "Booked the first two"),
            (ActionState.IN_PROGRESS, ActionState.DONE, "Com Person", "All booked"),
        ]
        assert all(h.at is not None for h in view.history)


def test_actions_on_the_case_timeline_only_for_those_who_may_see_them(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        dec = record(world, s, ordinary(world, core_group(world, s).id))
        l3, dc = meeting(world, s), disclosure(world, s)
        decide(world, s, decision_data(world, l3.id, [dc.id]))  # SECRET, one break-out to COM
    with world.platform.transaction() as s:
        seen = case_actions(world.ctx(s, "com"), _case(s, world))
        com = [(a.description, a.breakout.text if a.breakout else None) for a in seen]
        assert ("ORDINARY-ACTION: book weekly contacts", None) in com
        assert any(d is None and b.startswith("BREAKOUT-TEXT") for d, b in com)  # only released
        assert not any(d and "SECRET" in d for d, _ in com)
    with world.platform.transaction() as s:
        pom = case_actions(world.ctx(s, "pom"), _case(s, world))
        assert [a.decision_id for a in pom] == [dec.id]  # the ordinary action, nothing of SECRET
    with world.platform.transaction() as s:
        assert len(case_actions(world.ctx(s, "honsu"), _case(s, world))) == 3


def _case(s, world):  # type: ignore[no-untyped-def]
    from shareplatform.cases.models import Case

    return s.get(Case, world.case_id)


# -- 4. meetings corrected or withdrawn by supersession --
def test_meeting_corrected_and_withdrawn_originals_stay_marked_and_audited(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        first, second = core_group(world, s), core_group(world, s)
    fixed = NewMeeting(
        "CORE_GROUP",
        TODAY - timedelta(days=2),
        world.ids["sol"],
        None,
        [Attendee("NSD", "SOL", user_id=world.ids["sol"])],
        "Core group: CORRECTED-OPEN-TEXT.",
    )
    with world.platform.transaction() as s:
        new = correct_meeting(world.ctx(s, "sol"), first.id, fixed, "The date was wrong")
        withdraw_meeting(world.ctx(s, "admin"), second.id, "Recorded twice by mistake")
    with world.platform.transaction() as s, pytest.raises(InvalidValue, match="already"):
        withdraw_meeting(world.ctx(s, "sol"), first.id, "again")
    with world.platform.transaction() as s, pytest.raises(NotPermitted):
        withdraw_meeting(world.ctx(s, "com"), new.id, "not mine to withdraw")
    with world.platform.transaction() as s, pytest.raises(InvalidValue, match="reason"):
        withdraw_meeting(world.ctx(s, "sol"), new.id, "  ")
    with world.platform.transaction() as s:
        ctx = world.ctx(s, "com")
        old = meeting_view(ctx, first.id)
        assert "CORE-OPEN-TEXT" in old.open_minutes  # the original stays as it was
        assert old.superseded_by == new.id and old.superseded_reason == "The date was wrong"
        assert meeting_view(ctx, new.id).corrects == first.id
        gone = meeting_view(ctx, second.id)
        assert gone.withdrawn and gone.superseded_reason == "Recorded twice by mistake"
        listed = {v.id: v for v in meetings_for_case(ctx, world.case_id)}
        assert listed[first.id].superseded and not listed[new.id].superseded
        actions = set(
            s.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.action.in_(["mappa.meeting.correct", "mappa.meeting.withdraw"])
                )
            )
        )
        assert actions == {"mappa.meeting.correct", "mappa.meeting.withdraw"}
    with world.platform.transaction() as s, pytest.raises(NotFound):
        meeting_view(world.ctx(s, "far"), first.id)
    with pytest.raises(NotPermitted, match="cannot be changed"), world.platform.transaction() as s:
        row = s.get(m.MeetingSupersession, s.scalar(select(m.MeetingSupersession.id).limit(1)))
        row.by_id = world.ids["com"]
        s.flush()


# -- 5. correcting a decision: the corrector must read it --
def test_correction_of_an_ordinary_decision_needs_to_read_it(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        cg = core_group(world, s)
        dec = record(world, s, ordinary(world, cg.id))
    fixed = ordinary(world, cg.id, decision="ORDINARY-DECISION: fortnightly office contacts")
    with world.platform.transaction() as s:
        ctx = world.ctx(s, "sol")
        prep = prepare_correction(ctx, dec.id, fixed, "Frequency agreed was fortnightly")
        assert prep.supersedes is not None and prep.label.classification.marking == (
            "OFFICIAL-SENSITIVE"
        )
    for who in ("far", "auditor"):
        with world.platform.transaction() as s, pytest.raises(NotFound):
            prepare_correction(world.ctx(s, who), dec.id, fixed, "no")


# -- 6. the closed-part attendance check --
@pytest.mark.parametrize(
    "who, why",
    [
        ("com", "Com Person is a Community offender manager, who is not in the sterile corridor"),
        ("pom", "Pom Person is not cleared for SECRET"),
        ("sol2", "Sol2 Person does not sit on this case's MAPPA panel"),
    ],
)
def test_closed_part_attendance_of_someone_not_entitled_is_refused(world, who, why) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        before = len(s.scalars(select(m.MappaMeeting.id)).all())
    with world.platform.transaction() as s, pytest.raises(InvalidValue) as err:
        record_meeting(
            world.ctx(s, "honsu"),
            world.case_id,
            NewMeeting(
                "MAPPA_L3",
                TODAY,
                world.ids["honsu"],
                world.ids["lro"],
                [
                    Attendee("NSD", "HONSU", user_id=world.ids["honsu"], closed_part=True),
                    Attendee("NSD", "SOL", user_id=world.ids[who], closed_part=True),
                ],
                "open part",
                "closed part",
            ),
        )
    assert err.value.kind == "closed-part attendance" and why in err.value.why
    with world.platform.transaction() as s:
        assert len(s.scalars(select(m.MappaMeeting.id)).all()) == before


def test_closed_part_attendance_reveals_nothing_to_a_recorder_outside_the_corridor(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s, pytest.raises(InvalidValue) as err:
        record_meeting(
            world.ctx(s, "admin"),
            world.case_id,
            NewMeeting(
                "MAPPA_L2",
                TODAY,
                world.ids["sol"],
                None,
                [Attendee("NSD", "COM", user_id=world.ids["com"], closed_part=True)],
                "open part",
            ),
        )
    assert "Com Person" not in str(err.value) and "vetting" not in str(err.value)
    assert "only senior managers" in err.value.why


def test_the_decision_log_figure_counts_only_decisions_after_disclosures(world) -> None:  # type: ignore[no-untyped-def]
    """Management information's "Decisions recorded after disclosures" (reports/dashboard.py)
    leaves ordinary decisions out: they rest on no disclosure."""
    from shareplatform.reports.dashboard import secret_counts
    from shareplatform.reports.scope import scope_for

    with world.platform.transaction() as s:
        cg = core_group(world, s)
        record(world, s, ordinary(world, cg.id))
        l3, dc = meeting(world, s), disclosure(world, s)
        decide(world, s, decision_data(world, l3.id, [dc.id], actions=[]))
    with world.platform.transaction() as s:
        ctx = world.ctx(s, "honsu")
        figure = secret_counts(ctx, scope_for(ctx, settings_suppress=False))
        assert figure is not None
        counts = {cell.label: cell.value for cell in figure.cells}
    assert counts == {"Secret disclosures recorded": 1, "Decisions recorded after disclosures": 1}
