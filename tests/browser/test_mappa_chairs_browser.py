"""MAPPA as chairs' work in Chromium: a SOL chairing a core group records an ordinary decision with
actions (no disclosure, OFFICIAL-SENSITIVE); the owning COM finds the action on the case timeline,
opens it (it names its case) and moves it on; a HoNSU recording a COM in the closed part of a
meeting is stopped by a GOV.UK error naming the person and why. axe-core checks every page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case
from shareplatform.mappa.services import Attendee, NewMeeting, record_meeting
from tests.browser.test_mappa_browser import _date, _sign_out
from tests.browser.test_web_journey import accessible, sign_in
from tests.browser.test_web_journey import browser_page as browser_page
from tests.factories import ctx_for

pytestmark = pytest.mark.browser


def _core_group(seeded) -> tuple[str, str, dict[str, str]]:  # type: ignore[no-untyped-def]
    today = date.today()
    with seeded.transaction() as s:
        case = s.scalar(select(Case).where(Case.reference == "SP-1001"))
        ids = {u.username: str(u.id) for u in s.scalars(select(User))}
        ctx = ctx_for(seeded, s, "sol.santos")
        meeting = record_meeting(
            ctx,
            case.id,
            NewMeeting(
                "CORE_GROUP",
                today,
                ctx.subject.user_id,
                None,
                [Attendee("NSD", "SOL", user_id=ctx.subject.user_id)],
                "CHAIRS-CORE-GROUP-OPEN",
            ),
        )
        return str(case.id), str(meeting.id), ids


def test_chair_records_an_ordinary_decision_and_the_owner_finds_the_action(
    browser_page, seeded
) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = browser_page
    today = date.today()
    case_id, meeting_id, ids = _core_group(seeded)

    sign_in(page, url, seeded, "sol.santos")
    page.goto(f"{url}/cases/{case_id}/mappa/decisions/new")
    accessible(page)
    page.select_option("#meeting_id", meeting_id)
    page.fill("#decision", "CHAIRS-DECISION: weekly office contacts")
    page.fill("#rationale", "CHAIRS-RATIONALE: compliance has slipped")
    page.fill("#action1_description", "CHAIRS-ACTION-1: book weekly contacts")
    page.select_option("#action1_owner", ids["com.cole"])
    _date(page, "action1_due", today + timedelta(days=7))
    page.fill("#action2_description", "CHAIRS-ACTION-2: tell the police nominal manager")
    page.select_option("#action2_owner", ids["sol.santos"])
    _date(page, "action2_due", today + timedelta(days=14))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("text=Check the decision before you sign it")
    accessible(page)
    page.get_by_role("button", name="Sign and record the decision").click()
    page.wait_for_url("**/mappa/decisions/*?saved=1")
    accessible(page)
    assert page.get_by_text("Signature verified").is_visible()
    label = page.locator("[data-page-label]").first.get_attribute("data-page-label")
    assert label == "OFFICIAL-SENSITIVE"  # resting on no disclosure: not in the corridor
    decision_url = page.url.split("?")[0]
    _sign_out(page)

    sign_in(page, url, seeded, "com.cole")
    page.goto(decision_url)  # the case team reads an ordinary decision
    accessible(page)
    assert page.get_by_text("CHAIRS-DECISION: weekly office contacts").is_visible()
    page.goto(f"{url}/cases/{case_id}")
    accessible(page)
    actions = page.locator("#mappa-actions")
    assert actions.get_by_text("CHAIRS-ACTION-1: book weekly contacts").is_visible()
    actions.get_by_role("link", name="CHAIRS-ACTION-1: book weekly contacts").click()
    page.wait_for_url("**/mappa/actions/*")
    accessible(page)
    assert page.locator("#action-case").inner_text() == "SP-1001"
    page.get_by_label("In progress").check()
    page.fill("#note", "Booked the first two")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/mappa/actions/*?saved=1")
    accessible(page)
    assert "Open to in progress" in page.locator("#history").inner_text()
    assert [e for e in errors if "404" not in e] == []  # the browser's own /favicon.ico request


def test_closed_part_attendance_warning_blocks_saving(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = browser_page
    today = date.today()
    with seeded.transaction() as s:
        case_id = str(s.scalar(select(Case.id).where(Case.reference == "SP-1001")))
        ids = {u.username: str(u.id) for u in s.scalars(select(User))}
    sign_in(page, url, seeded, "honsu.hughes")
    page.goto(f"{url}/cases/{case_id}/mappa/meetings/new")
    accessible(page)
    page.select_option("#meeting_type", "MAPPA_L3")
    _date(page, "held_on", today)
    page.select_option("#chair_id", ids["honsu.hughes"])
    page.select_option("#co_chair_id", ids["lro.lewis"])
    page.check(f"input[name='attended_{ids['honsu.hughes']}']")
    page.check(f"input[name='closed_{ids['honsu.hughes']}']")
    page.check(f"input[name='attended_{ids['com.cole']}']")
    page.check(f"input[name='closed_{ids['com.cole']}']")
    page.fill("#open_minutes", "CHAIRS-OPEN-PART")
    page.fill("#closed_minutes", "CHAIRS-CLOSED-PART")
    page.get_by_role("button", name="Save the meeting").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    accessible(page)
    text = summary.inner_text()
    assert "Chris Cole" in text and "not in the sterile corridor" in text, text
    assert "/meetings/new" in page.url  # nothing saved: the form is shown again
    page.uncheck(f"input[name='closed_{ids['com.cole']}']")
    page.get_by_role("button", name="Save the meeting").click()
    page.wait_for_url("**/mappa/meetings/*")
    assert page.get_by_text("CHAIRS-CLOSED-PART").is_visible()
    # the form answering 400, and the browser's own /favicon.ico request
    assert [e for e in errors if "400" not in e and "404" not in e] == []
