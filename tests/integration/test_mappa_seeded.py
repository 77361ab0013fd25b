"""The MAPPA decision log with the demo users: who sees what on a demo case (SQLite copy)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from shareplatform.audit.verify import verify
from shareplatform.cases.models import Case
from shareplatform.domain.errors import NotFound, NotPermitted
from shareplatform.mappa.services import (
    Attendee,
    NewAction,
    NewBreakout,
    NewDecision,
    NewDisclosure,
    NewMeeting,
    decision_log,
    disclosures_for_case,
    meeting_view,
    my_actions,
    prepare_decision,
    record_decision,
    record_disclosure,
    record_meeting,
)
from tests.factories import ctx_for
from tests.security.demo_support import secret_items, shows_secret


def _uid(session, username: str):  # type: ignore[no-untyped-def]
    from shareplatform.accounts.models import User

    return session.scalar(select(User.id).where(User.username == username))


@pytest.fixture
def demo_decision(seeded):  # type: ignore[no-untyped-def]
    today = date.today()
    with seeded.transaction() as s:
        case = s.scalar(select(Case).where(Case.reference == "SP-1001"))
        ctx = ctx_for(seeded, s, "honsu.hughes")
        mt = record_meeting(
            ctx,
            case.id,
            NewMeeting(
                "REVEAL",
                today,
                _uid(s, "honsu.hughes"),
                _uid(s, "lro.lewis"),
                [
                    Attendee("NSD", "HONSU", user_id=_uid(s, "honsu.hughes"), closed_part=True),
                    Attendee("CTNM", "LRO", user_id=_uid(s, "lro.lewis"), closed_part=True),
                ],
                "Reveal meeting convened.",
                "CLOSED-DEMO-TEXT",
            ),
        )
        dc = record_disclosure(
            ctx,
            case.id,
            NewDisclosure(
                "CT_POLICING",
                "CTP-NE/4471",
                _uid(s, "honsu.hughes"),
                datetime.now(UTC) - timedelta(days=1),
            ),
        )
        data = NewDecision(
            mt.id,
            [dc.id],
            "DEMO-DECISION-TEXT",
            "DEMO-RATIONALE",
            caveats=("ORCON",),
            actions=[
                NewAction(
                    "DEMO-ACTION-SECRET for the COM",
                    _uid(s, "com.cole"),
                    today + timedelta(days=2),
                    NewBreakout(
                        "DEMO-BREAKOUT: arrange a home visit",
                        consent_from="CTP NE intelligence manager",
                        consent_on=today,
                    ),
                ),
                NewAction(
                    "DEMO-ACTION-2 for police", _uid(s, "lro.lewis"), today + timedelta(days=14)
                ),
            ],
        )
        dec = record_decision(ctx, case.id, data, prepare_decision(ctx, case.id, data).token)
        return seeded, case.id, mt.id, dec.id


CORRIDOR_PANEL = [
    "honsu.hughes",
    "lro.lewis",
    "sol.santos",
    "governor.grey",
    "security.shah",
    "pct.palmer",
    "rctl.reid",
]


@pytest.mark.parametrize("username", CORRIDOR_PANEL)
def test_corridor_panel_reads_everything(demo_decision, username: str) -> None:  # type: ignore[no-untyped-def]
    platform, case_id, mt, dec = demo_decision
    with platform.transaction() as s:
        ctx = ctx_for(platform, s, username)
        # the demo data already holds a decision log on this case; ours is one more entry
        [view] = [v for v in decision_log(ctx, case_id) if v.id == dec]
        assert view.verified and view.decision == "DEMO-DECISION-TEXT"
        assert "CTP-NE/4471" in [d.reference for d in disclosures_for_case(ctx, case_id)]
        assert meeting_view(ctx, mt).closed_minutes == "CLOSED-DEMO-TEXT"


@pytest.mark.parametrize(
    "username", ["pom.parker", "keyworker.khan", "nm.nash", "mappa.morgan", "com.cole"]
)
def test_case_team_and_panel_specialists_see_no_decision(demo_decision, username: str) -> None:  # type: ignore[no-untyped-def]
    platform, case_id, mt, _dec = demo_decision
    with platform.transaction() as s:
        ctx = ctx_for(platform, s, username)
        with pytest.raises(NotFound):  # as for an absent decision log
            decision_log(ctx, case_id)
        with pytest.raises(NotFound):
            disclosures_for_case(ctx, case_id)
        view = meeting_view(ctx, mt)
        assert view.closed_minutes is None and view.decisions == [] and view.attendees == []
        items = my_actions(ctx)
        if (
            username == "com.cole"
        ):  # the owner sees the break-out and its due date, nothing behind it
            texts = [i.text for i in items]
            assert "DEMO-BREAKOUT: arrange a home visit" in texts
            assert all(i.from_breakout for i in items)  # only break-outs, from every decision
            assert "DEMO-ACTION-SECRET" not in repr(items) and "DEMO-DECISION" not in repr(items)
            assert shows_secret(repr(items), secret_items(platform)) == []
        else:
            assert items == []


@pytest.mark.parametrize(
    "username", ["auditor.adams", "policy.admin", "user.admin", "honsu.lambert", "com.expired"]
)
def test_outsiders_and_expired_vetting_see_nothing(demo_decision, username: str) -> None:  # type: ignore[no-untyped-def]
    platform, case_id, mt, _dec = demo_decision
    with platform.transaction() as s:
        ctx = ctx_for(platform, s, username)
        with pytest.raises((NotFound, NotPermitted)):
            decision_log(ctx, case_id)
        with pytest.raises((NotFound, NotPermitted)):
            meeting_view(ctx, mt)
        assert my_actions(ctx) == []


def test_audit_chain_intact_after_decision_log_use(demo_decision) -> None:  # type: ignore[no-untyped-def]
    platform, *_ = demo_decision
    with platform.transaction() as s:
        assert verify(s, platform.signer.public_key).ok
