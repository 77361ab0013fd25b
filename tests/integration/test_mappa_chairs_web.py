"""Chairs' pages through the Flask test client over the demo data: "Correct this decision" comes
pre-filled from the decision it corrects, for a corrector who may read it; a meeting is corrected
(pre-filled too) and withdrawn from its page, the original staying, marked."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case
from shareplatform.mappa.services import (
    Attendee,
    NewAction,
    NewDecision,
    NewMeeting,
    prepare_decision,
    record_decision,
    record_meeting,
)
from tests.factories import app_for, ctx_for
from tests.support.web import csrf_of, sign_in, text

TODAY = date.today()


def _ordinary(seeded):  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        case = s.scalar(select(Case).where(Case.reference == "SP-1001"))
        com = s.scalar(select(User.id).where(User.username == "com.cole"))
        ctx = ctx_for(seeded, s, "sol.santos")
        meeting = record_meeting(
            ctx,
            case.id,
            NewMeeting(
                "CORE_GROUP",
                TODAY,
                ctx.subject.user_id,
                None,
                [Attendee("NSD", "SOL", user_id=ctx.subject.user_id)],
                "WEB-CORE-GROUP-OPEN",
            ),
        )
        data = NewDecision(
            meeting.id,
            [],
            "WEB-ORDINARY-DECISION",
            "WEB-ORDINARY-RATIONALE",
            classification="OFFICIAL",
            actions=[NewAction("WEB-ORDINARY-ACTION", com, TODAY + timedelta(days=5))],
        )
        token = prepare_decision(ctx, case.id, data).token
        decision = record_decision(ctx, case.id, data, token)
        return str(case.id), str(meeting.id), str(decision.id)


def test_correct_this_decision_is_prefilled_for_those_who_may_read_it(seeded) -> None:  # type: ignore[no-untyped-def]
    _case, _meeting, decision = _ordinary(seeded)
    app = app_for(seeded)
    chair = app.test_client()
    sign_in(chair, seeded, "sol.santos")
    page = text(chair.get(f"/mappa/decisions/{decision}"))
    assert "Correct this decision" in page
    form = chair.get(f"/mappa/decisions/{decision}/correct")
    assert form.status_code == 200
    html = text(form)
    assert "WEB-ORDINARY-DECISION" in html and "WEB-ORDINARY-RATIONALE" in html
    assert "WEB-ORDINARY-ACTION" in html
    assert 'name="classification" type="radio" value="OFFICIAL" checked' in html  # its label
    team = app.test_client()
    sign_in(team, seeded, "com.cole")  # reads the ordinary decision, may not correct it
    assert "WEB-ORDINARY-DECISION" in text(team.get(f"/mappa/decisions/{decision}"))
    assert "Correct this decision" not in text(team.get(f"/mappa/decisions/{decision}"))
    assert team.get(f"/mappa/decisions/{decision}/correct").status_code == 403
    outsider = app.test_client()
    sign_in(outsider, seeded, "honsu.lambert")  # another unit: answered as for an unknown id
    assert outsider.get(f"/mappa/decisions/{decision}/correct").status_code == 404


def test_meeting_corrected_prefilled_and_withdrawn_from_its_page(seeded) -> None:  # type: ignore[no-untyped-def]
    case, meeting, _decision = _ordinary(seeded)
    app = app_for(seeded)
    chair = app.test_client()
    sign_in(chair, seeded, "sol.santos")
    form = chair.get(f"/mappa/meetings/{meeting}/correct")
    html = text(form)
    assert form.status_code == 200 and "WEB-CORE-GROUP-OPEN" in html
    r = chair.post(
        f"/mappa/meetings/{meeting}/correct",
        data={
            "csrf_token": csrf_of(html),
            "meeting_type": "CORE_GROUP",
            "held_on-day": str(TODAY.day),
            "held_on-month": str(TODAY.month),
            "held_on-year": str(TODAY.year),
            "chair_id": _id(seeded, "sol.santos"),
            f"attended_{_id(seeded, 'sol.santos')}": "y",
            "open_minutes": "WEB-CORE-GROUP-CORRECTED",
            "reason": "WEB-REASON: minutes were of another case",
        },
    )
    assert r.status_code == 302, text(r)[:2000]
    corrected = r.headers["Location"].split("/mappa/meetings/")[1].split("?")[0]
    original = text(chair.get(f"/mappa/meetings/{meeting}"))
    assert "WEB-CORE-GROUP-OPEN" in original and "has been corrected" in original
    assert "WEB-REASON: minutes were of another case" in original
    page = text(chair.get(f"/mappa/meetings/{corrected}"))
    refused = chair.post(
        f"/mappa/meetings/{corrected}/withdraw", data={"csrf_token": csrf_of(page), "reason": ""}
    )
    assert refused.status_code == 400 and "govuk-error-summary" in text(refused)
    done = chair.post(
        f"/mappa/meetings/{corrected}/withdraw",
        data={"csrf_token": csrf_of(page), "reason": "Recorded in error"},
    )
    assert done.status_code == 302
    assert "has been withdrawn" in text(chair.get(f"/mappa/meetings/{corrected}"))
    listing = text(chair.get(f"/cases/{case}/mappa"))
    assert "Withdrawn" in listing and "Corrected" in listing


def _id(seeded, username: str) -> str:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        return str(s.scalar(select(User.id).where(User.username == username)))
