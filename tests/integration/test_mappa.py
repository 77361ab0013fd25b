"""MAPPA decision log: authorisation per role, bad input, signing, tamper detection, supersession,
break-out visibility and dashboards. Runs on SQLite and PostgreSQL (the `platform` fixture)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from shareplatform.audit.verify import verify
from shareplatform.cases.models import MappaLevelChange
from shareplatform.domain.errors import InvalidValue, NotFound, NotPermitted
from shareplatform.mappa import models as m
from shareplatform.mappa.services import (
    NewAction,
    NewBreakout,
    SigningFailed,
    chair_actions,
    correct_decision,
    decision_log,
    decision_page,
    disclosures_for_case,
    meeting_view,
    meetings_for_case,
    my_actions,
    prepare_correction,
    prepare_decision,
    record_decision,
    release_breakout,
    update_action,
)
from tests.integration.mappa_world import (
    build_world,
    counts,
    decide,
    decision_data,
    disclosure,
    meeting,
)


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    return build_world(platform)


@pytest.fixture
def recorded(world):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        mt = meeting(world, s)
        dc = disclosure(world, s)
        dec = decide(
            world,
            s,
            decision_data(
                world, mt.id, [dc.id], level=2, level_rationale="Panel agreed Level 2 after review."
            ),
        )
    return world, mt.id, dc.id, dec.id


def test_decision_recorded_signed_and_verified_with_level_history(recorded) -> None:  # type: ignore[no-untyped-def]
    world, _mt, dc, dec = recorded
    with world.platform.transaction() as s:
        view, chain = decision_page(world.ctx(s, "lro"), dec)
        assert view.verified, view.integrity
        assert view.decision.startswith("DECISION-TEXT") and view.rationale.startswith(
            "RATIONALE-TEXT"
        )
        assert view.decided_by == "Honsu Person" and view.agreed_by == "Lro Person"
        assert view.signer == "honsu" and len(bytes.fromhex(view.signature)) == 64
        assert [d.id for d in view.disclosures] == [dc]
        assert str(view.label) == "SECRET / ORCON"
        assert [a.description for a in view.actions][1].startswith("ACTION-TWO")
        assert view.actions[0].breakout is not None and view.actions[0].breakout.integrity == ""
        assert chain == [view]
        levels = s.scalars(
            select(MappaLevelChange).where(MappaLevelChange.case_id == world.case_id)
        ).all()
        assert [c.level for c in levels] == [2]
        assert verify(s, world.platform.signer.public_key).ok


@pytest.mark.parametrize(
    "who, sees",
    [
        ("honsu", True),
        ("lro", True),
        ("sol", True),  # corridor managers on the panel
        ("admin", False),
        ("com", False),
        ("pom", False),
        ("nm", False),  # panel specialist, frontline team
        ("sol2", False),  # oversight of the unit but not on the panel
    ],
)
def test_who_reads_decisions_and_disclosures(recorded, who: str, sees: bool) -> None:  # type: ignore[no-untyped-def]
    world, mt, _dc, dec = recorded
    with world.platform.transaction() as s:
        ctx = world.ctx(s, who)
        if sees:
            assert decision_log(ctx, world.case_id)[0].id == dec
            assert disclosures_for_case(ctx, world.case_id)[0].summary == "DISCLOSURE-SUMMARY-TEXT"
            assert meeting_view(ctx, mt).closed_minutes == "Closed part: SECRET-CLOSED-TEXT"
            return
        # answered as for a case without decisions (tests/security/test_withheld_crawl.py)
        with pytest.raises(NotFound):
            decision_log(ctx, world.case_id)
        with pytest.raises(NotFound):
            disclosures_for_case(ctx, world.case_id)
        with pytest.raises(NotFound):
            decision_page(ctx, dec)
        view = meeting_view(ctx, mt)  # open part: the case team and panel see it
        assert "OPEN-PART-TEXT" in view.open_minutes
        assert view.closed_minutes is None and view.decisions == []
        assert all(not a.closed_part for a in view.attendees)


@pytest.mark.parametrize("who", ["far", "auditor"])
def test_outsiders_learn_nothing(recorded, who: str) -> None:  # type: ignore[no-untyped-def]
    world, mt, _dc, dec = recorded
    with world.platform.transaction() as s:
        ctx = world.ctx(s, who)
        for call in (
            lambda: decision_log(ctx, world.case_id),
            lambda: decision_page(ctx, dec),
            lambda: meeting_view(ctx, mt),
            lambda: meetings_for_case(ctx, world.case_id),
        ):
            with pytest.raises(NotFound):
                call()
        assert my_actions(ctx) == [] and chair_actions(ctx) == []


def test_breakout_owner_sees_only_the_breakout_and_a_pom_sees_nothing(recorded) -> None:  # type: ignore[no-untyped-def]
    world, _mt, _dc, _dec = recorded
    with world.platform.transaction() as s:
        items = my_actions(world.ctx(s, "com"))
        assert len(items) == 1
        item = items[0]
        assert item.from_breakout and item.text.startswith("BREAKOUT-TEXT")
        assert item.action.description is None and item.action.due_on == date.today() + timedelta(
            days=3
        )
        assert item.due_soon and not item.overdue
        shown = repr(item)
        for secret in (
            "ACTION-ONE-SECRET",
            "DECISION-TEXT",
            "RATIONALE-TEXT",
            "DISCLOSURE-SUMMARY",
            "SS/2025",
        ):
            assert secret not in shown
        assert my_actions(world.ctx(s, "pom")) == []
        lro = my_actions(world.ctx(s, "lro"))  # a corridor owner sees the action itself
        assert [i.text for i in lro] == ["ACTION-TWO-SECRET: brief the CT unit"] and not lro[
            0
        ].from_breakout
        chair = chair_actions(world.ctx(s, "honsu"))
        assert sorted(i.text[:10] for i in chair) == ["ACTION-ONE", "ACTION-TWO"]


def test_owner_updates_status_append_only(recorded) -> None:  # type: ignore[no-untyped-def]
    world, *_ = recorded
    with world.platform.transaction() as s:
        action_id = my_actions(world.ctx(s, "com"))[0].action.id
        with pytest.raises(NotFound):
            update_action(world.ctx(s, "pom"), action_id, "DONE", "not mine")
        update_action(world.ctx(s, "com"), action_id, "DONE", "Visit completed; no concerns.")
    with world.platform.transaction() as s:
        assert my_actions(world.ctx(s, "com")) == []  # done: off the dashboard
        view = decision_log(world.ctx(s, "honsu"), world.case_id)[0]
        history = view.actions[0].history
        assert [h.status.value for h in history] == ["OPEN", "DONE"] and history[1].note.startswith(
            "Visit"
        )
        with pytest.raises(InvalidValue, match="already done"):
            update_action(world.ctx(s, "com"), action_id, "CANCELLED", "again")
        assert (
            s.scalar(
                select(m.ActionStatus.position)
                .where(m.ActionStatus.action_id == action_id)
                .order_by(m.ActionStatus.position.desc())
                .limit(1)
            )
            == 1
        )


def test_a_status_forged_in_the_database_never_counts(recorded) -> None:  # type: ignore[no-untyped-def]
    """An action marked done in the database (not through its owner): the decision log keeps it
    open and names the forged status (shareplatform/crypto/attested.py)."""
    world, *_ = recorded
    with world.platform.transaction() as s:
        s.execute(text("UPDATE mappa_action_status SET status = 'DONE'"))
    with world.platform.transaction() as s:
        actions = decision_log(world.ctx(s, "honsu"), world.case_id)[0].actions
    assert actions and all(a.status.value == "OPEN" for a in actions)
    assert all("status change" in a.integrity for a in actions)


def test_overdue_and_due_soon(world) -> None:  # type: ignore[no-untyped-def]
    earlier = date.today() - timedelta(days=30)
    with world.platform.transaction() as s:
        mt = meeting(world, s, today=earlier)
        dc = disclosure(world, s)
        data = decision_data(
            world,
            mt.id,
            [dc.id],
            today=earlier,
            actions=[
                NewAction("late", world.ids["honsu"], earlier + timedelta(days=10)),
                NewAction("soon", world.ids["honsu"], date.today() + timedelta(days=2)),
                NewAction("later", world.ids["honsu"], date.today() + timedelta(days=40)),
            ],
        )
        decide(world, s, data, today=earlier)
    with world.platform.transaction() as s:
        items = my_actions(world.ctx(s, "honsu"))
        assert [(i.text, i.overdue, i.due_soon) for i in items] == [
            ("late", True, False),
            ("soon", False, True),
            ("later", False, False),
        ]


# -- bad input and refusals: a clear message and nothing stored ------------------------------------
def _refused_then_commit(world, who: str, attempt, error, match: str):  # type: ignore[no-untyped-def]
    """Run a refused attempt, then COMMIT: nothing but audit entries may have been added."""
    with world.platform.transaction() as s:
        before = counts(s)
    with world.platform.transaction() as s, pytest.raises(error, match=match):
        attempt(s, world.ctx(s, who))
    with world.platform.transaction() as s:
        assert counts(s) == before


def test_bad_decisions_refused_and_nothing_stored(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        mt, dc = meeting(world, s).id, disclosure(world, s).id
    today = date.today()

    def attempt(**kw):  # type: ignore[no-untyped-def]
        def run(s, ctx):  # type: ignore[no-untyped-def]
            args = dict(kw)
            data = decision_data(world, mt, args.pop("disclosure_ids", [dc]), **args)
            record_decision(ctx, world.case_id, data, "x" * 64)

        return run

    _refused_then_commit(world, "honsu", attempt(rationale="  "), InvalidValue, "rationale")
    _refused_then_commit(
        world, "honsu", attempt(actions=[NewAction("do it", None, today)]), InvalidValue, "owner"
    )
    _refused_then_commit(
        world,
        "honsu",
        attempt(actions=[NewAction("do it", world.ids["com"], None)]),
        InvalidValue,
        "due date",
    )
    _refused_then_commit(
        world,
        "honsu",
        attempt(
            actions=[
                NewAction("do it", world.ids["com"], today, NewBreakout("sanitised", "SECRET"))
            ]
        ),
        InvalidValue,
        "SECRET is refused",
    )
    _refused_then_commit(
        world,
        "honsu",
        attempt(actions=[NewAction("do it", world.ids["com"], today, NewBreakout("sanitised"))]),
        InvalidValue,
        "consented",
    )
    _refused_then_commit(
        world,
        "honsu",
        attempt(classification="OFFICIAL-SENSITIVE"),
        InvalidValue,
        "at least SECRET",
    )
    _refused_then_commit(world, "honsu", attempt(disclosure_ids=[]), InvalidValue, "disclosure")
    _refused_then_commit(
        world, "honsu", attempt(), InvalidValue, "confirm"
    )  # a token for something else
    _refused_then_commit(world, "sol", attempt(), NotPermitted, "chair or co-chair")
    _refused_then_commit(
        world, "lro", attempt(), NotPermitted, "Only the chair of the meeting may approve"
    )
    _refused_then_commit(world, "com", attempt(), NotPermitted, "sterile corridor")
    _refused_then_commit(world, "admin", attempt(), NotPermitted, "sterile corridor")


def test_disclosure_by_non_corridor_refused(world) -> None:  # type: ignore[no-untyped-def]
    for who in ("com", "pom", "admin", "nm", "sol2"):
        _refused_then_commit(
            world,
            who,
            lambda s, ctx: disclosure(world, s, who=ctx.subject.username),
            NotPermitted,
            "sterile corridor",
        )
    _refused_then_commit(
        world, "far", lambda s, ctx: disclosure(world, s, who="far"), NotFound, "not found"
    )
    with world.platform.transaction() as s:  # and the denials are audited
        denied = s.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'mappa.disclosure.record' "
                "AND outcome = 'deny'"
            )
        ).scalar()
        assert denied == 5


def test_meeting_rules(world) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.mappa.services import Attendee, NewMeeting, record_meeting

    def meet(chair: str, co: str | None, closed: str = "") -> object:
        def run(s, ctx):  # type: ignore[no-untyped-def]
            return record_meeting(
                ctx,
                world.case_id,
                NewMeeting(
                    "MAPPA_L3",
                    date.today(),
                    world.ids[chair],
                    world.ids[co] if co else None,
                    [Attendee("NSD", "HONSU")],
                    "open minutes",
                    closed,
                ),
            )

        return run

    _refused_then_commit(
        world, "honsu", meet("sol", "lro"), InvalidValue, "Head of National Security Unit"
    )
    _refused_then_commit(world, "honsu", meet("honsu", None), InvalidValue, "co-chair")
    _refused_then_commit(
        world, "admin", meet("honsu", "lro", "closed"), NotPermitted, "closed part"
    )
    _refused_then_commit(world, "pom", meet("honsu", "lro"), NotPermitted, "record meetings")
    with world.platform.transaction() as s:  # the MAPPA administrator minutes the open part
        meet("honsu", "lro")(s, world.ctx(s, "admin"))


def test_signing_fails_closed(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        mt, dc = meeting(world, s).id, disclosure(world, s).id
        before = counts(s)
        levels = s.query(MappaLevelChange).count()

    def broken(_message: bytes) -> bytes:
        raise RuntimeError("HSM unavailable")

    monkeypatch.setattr(world.platform.signer, "sign", broken)
    # the transaction commits after the refusal: signing comes before anything is added
    with world.platform.transaction() as s, pytest.raises(SigningFailed, match="nothing has been"):
        decide(world, s, decision_data(world, mt, [dc], level=2, level_rationale="step down"))
    monkeypatch.setattr(world.platform.signer, "sign", lambda _m: b"\x00" * 64)  # a wrong signature
    with world.platform.transaction() as s, pytest.raises(SigningFailed):
        decide(world, s, decision_data(world, mt, [dc]))
    with world.platform.transaction() as s:
        assert counts(s) == before and s.query(MappaLevelChange).count() == levels


# -- immutability and tampering ------------------------------------------------------------------
def test_orm_refuses_updates_and_deletes(recorded) -> None:  # type: ignore[no-untyped-def]
    world, _mt, _dc, dec = recorded
    with world.platform.db.sessions() as s:
        row = s.get(m.MappaDecision, dec)
        row.level = 1
        with pytest.raises(NotPermitted, match="cannot be changed"):
            s.flush()
        s.rollback()
        s.delete(s.get(m.MappaAction, s.scalar(select(m.MappaAction.id).limit(1))))
        with pytest.raises(NotPermitted):
            s.flush()


def _problems(world, dec) -> list[str]:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        view, _ = decision_page(world.ctx(s, "honsu"), dec)
        return view.integrity


@pytest.mark.parametrize(
    "sql, expected",
    [
        (
            "UPDATE mappa_decisions SET level = 1",
            "decision: content does not match its recorded hash",
        ),
        (  # who decided is an authorisation fact: its stamp fails before the content is read
            "UPDATE mappa_decisions SET decided_by_id = agreed_by_id",
            "decision: its authorisation facts do not match",
        ),
        ("UPDATE mappa_decisions SET content_hash = signature", "decision: content does not match"),
        ("DELETE FROM mappa_decision_disclosures", "decision: content does not match"),
        (
            "UPDATE mappa_actions SET due_on = due_on + 30 WHERE position = 1",
            "action 2: content does not match",
        ),
        (
            "UPDATE mappa_breakouts SET approved_by_id = "
            "(SELECT id FROM users WHERE username = 'sol')",
            "action 1 break-out: its authorisation facts do not match",
        ),
        (  # who owns an action decides who reads it
            "UPDATE mappa_actions SET owner_id = (SELECT id FROM users WHERE username = 'sol')",
            "action 1: its authorisation facts do not match",
        ),
        (  # the meeting behind a signed decision
            "UPDATE mappa_meetings SET held_on = '2020-01-01'",
            "meeting: its authorisation facts do not match",
        ),
        ("UPDATE mappa_meetings SET meeting_type = 'CORE_GROUP'", "meeting: its authorisation"),
        (
            "UPDATE mappa_decisions SET classification = 'OFFICIAL-SENSITIVE'",
            "decision: its authorisation facts do not match",
        ),
    ],
)
def test_database_tampering_is_detected_on_read(recorded, sql: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    world, _mt, _dc, dec = recorded
    assert _problems(world, dec) == []
    with world.platform.transaction() as s:
        if "due_on + 30" in sql and s.bind.dialect.name == "sqlite":
            sql = "UPDATE mappa_actions SET due_on = date(due_on, '+30 days') WHERE position = 1"
        s.execute(text(sql))
    problems = _problems(world, dec)
    assert any(p.startswith(expected) for p in problems), problems


def test_forged_signature_is_detected(recorded) -> None:  # type: ignore[no-untyped-def]
    world, _mt, _dc, dec = recorded
    with world.platform.transaction() as s:
        sig = s.scalar(select(m.MappaDecision.signature))
        s.execute(
            text("UPDATE mappa_decisions SET signature = :sig"),
            {"sig": bytes([sig[0] ^ 1]) + sig[1:]},
        )
    assert _problems(world, dec) == ["decision: signature does not verify"]


# -- corrections -----------------------------------------------------------------------------------
def test_correction_supersedes_and_both_stay_readable(recorded) -> None:  # type: ignore[no-untyped-def]
    world, mt, dc, dec = recorded
    with world.platform.transaction() as s:
        ctx = world.ctx(
            s, "lro"
        )  # the co-chair may correct; without break-outs (the chair approves those)
        data = decision_data(
            world,
            mt,
            [dc],
            decision="DECISION-TEXT v2: visits twice weekly",
            actions=[NewAction("ACTION-V2", world.ids["lro"], date.today() + timedelta(days=5))],
        )
        with pytest.raises(InvalidValue, match="reason"):
            prepare_correction(ctx, dec, data, "  ")
        prepared = prepare_correction(ctx, dec, data, "Wrong visit frequency recorded")
        assert prepared.supersedes is not None and prepared.reason.startswith("Wrong")
        new = correct_decision(ctx, dec, data, "Wrong visit frequency recorded", prepared.token)
    with world.platform.transaction() as s:
        old_view, chain = decision_page(world.ctx(s, "honsu"), dec)
        assert [v.id for v in chain] == [dec, new.id]
        assert old_view.superseded_by_id == new.id and chain[1].supersedes_id == dec
        assert chain[1].correction_reason == "Wrong visit frequency recorded"
        assert all(v.verified for v in chain)
        assert {v.id for v in decision_log(world.ctx(s, "honsu"), world.case_id)} == {dec, new.id}
        # the corrected decision's actions leave the dashboards; the correction's take their place
        assert [i.text for i in chair_actions(world.ctx(s, "honsu"))] == ["ACTION-V2"]
        assert my_actions(world.ctx(s, "com")) == []
        with pytest.raises(NotPermitted, match="already been corrected"):
            prepare_correction(world.ctx(s, "honsu"), dec, data, "again")
        with pytest.raises(NotFound):
            prepare_correction(world.ctx(s, "far"), new.id, data, "not mine")


def test_later_breakout_by_chair_only(recorded) -> None:  # type: ignore[no-untyped-def]
    world, *_ = recorded
    with world.platform.transaction() as s:
        lro_action = my_actions(world.ctx(s, "lro"))[0].action.id
        with pytest.raises(NotPermitted, match="chair"):
            release_breakout(
                world.ctx(s, "lro"),
                lro_action,
                NewBreakout("x", consent_from="a", consent_on=date.today()),
            )
        with pytest.raises(InvalidValue, match="SECRET is refused"):
            release_breakout(world.ctx(s, "honsu"), lro_action, NewBreakout("x", "SECRET"))
        bo = release_breakout(
            world.ctx(s, "honsu"),
            lro_action,
            NewBreakout(
                "Sanitised: brief the team",
                "OFFICIAL",
                consent_from="JCTPPH duty officer",
                consent_on=date.today(),
            ),
        )
        assert bo.orcon_consent
        with pytest.raises(InvalidValue, match="already has"):
            release_breakout(
                world.ctx(s, "honsu"),
                lro_action,
                NewBreakout("again", consent_from="a", consent_on=date.today()),
            )


def test_preview_shows_exactly_what_will_be_recorded(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        mt, dc = meeting(world, s).id, disclosure(world, s).id
        ctx = world.ctx(s, "honsu")
        data = decision_data(world, mt, [dc])
        prepared = prepare_decision(ctx, world.case_id, data)
        assert counts(s)["mappa_decisions"] == 0  # the preview stores nothing
        assert prepared.decided_by == "Honsu Person" and prepared.agreed_by == "Lro Person"
        assert [a.owner.username for a in prepared.actions] == ["com", "lro"]
        assert prepared.actions[0].breakout.consent["from"] == "Security Service desk officer"
        changed = decision_data(world, mt, [dc], rationale="RATIONALE-TEXT changed after preview")
        with pytest.raises(InvalidValue, match="differs from what was confirmed"):
            record_decision(ctx, world.case_id, changed, prepared.token)
        record_decision(ctx, world.case_id, data, prepared.token)
