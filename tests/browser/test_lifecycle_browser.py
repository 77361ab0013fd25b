"""A practitioner completes a transition checklist in Chromium: opens the release checklist from
the case's lifecycle page, is refused a half-filled entry with a clear error, then records the
three enquiries (done with its record, not needed, court-stage checks). axe-core on every page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case
from shareplatform.lifecycle.models import ChecklistEntry
from shareplatform.records.services import NewRecord, post_record
from tests.browser.test_web_journey import accessible, sign_in
from tests.browser.test_web_journey import browser_page as browser_page
from tests.factories import ctx_for

pytestmark = pytest.mark.browser


def submit(page) -> None:  # type: ignore[no-untyped-def]
    """Send the enquiry form and wait for the next page (the URL alone may not change)."""
    with page.expect_navigation():
        page.get_by_role("button", name="Record the enquiry").click()


def test_practitioner_completes_a_transition_checklist(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = browser_page
    today = date.today()
    with seeded.transaction() as s:
        case = s.scalar(select(Case).where(Case.reference == "SP-1001"))
        cole = str(s.scalar(select(User.id).where(User.username == "com.cole")))
        da = post_record(
            ctx_for(seeded, s, "com.cole"),
            case.id,
            NewRecord(
                "ENQUIRY_DOMESTIC_ABUSE",
                today - timedelta(days=1),
                "OFFICIAL-SENSITIVE",
                [],
                "DA checks at the release address",
                "Police DA checks: no call-outs recorded.",
            ),
        )
        case_id, da_id = str(case.id), str(da.id)

    sign_in(page, url, seeded, "com.cole")
    page.goto(f"{url}/cases/{case_id}")
    page.get_by_role(
        "link", name="Lifecycle, transition checklists and risk management plan"
    ).click()
    page.wait_for_url("**/lifecycle")
    accessible(page)
    page.select_option("#transition", "RELEASE")
    release = today + timedelta(days=30)
    for part, value in (("day", release.day), ("month", release.month), ("year", release.year)):
        page.fill(f"#due_on-{part}", str(value))
    page.select_option("#owner_id", cole)
    page.get_by_role("button", name="Open a checklist").click()
    page.wait_for_url("**/lifecycle?saved=1")
    page.get_by_role("link", name="Release", exact=False).first.click()
    page.wait_for_url("**/lifecycle/checklists/*")
    accessible(page)
    assert page.locator("#checklist-status").inner_text() == "3 outstanding"

    # not needed, but no reason: refused with a clear error, nothing stored
    page.get_by_label("Child safeguarding", exact=False).check()
    page.get_by_label("Not needed").check()
    submit(page)
    page.get_by_role("alert").get_by_text("Reason: say why (not needed)").wait_for()
    accessible(page)
    with seeded.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ChecklistEntry)) == 0

    page.get_by_label("Child safeguarding", exact=False).check()
    page.get_by_label("Not needed").check()
    page.fill("#reason", "No children live at or visit the release address")
    submit(page)
    page.get_by_label("Domestic abuse", exact=False).check()
    page.get_by_label("Done").check()
    page.select_option("#record_id", da_id)
    submit(page)
    page.get_by_label("Adult safeguarding", exact=False).check()
    page.get_by_label("Checks at court stage sufficient").check()
    page.fill("#reason", "Adult services checks at sentencing remain current")
    submit(page)
    accessible(page)
    assert page.locator("#checklist-status").inner_text() == "Complete"
    assert page.get_by_text("No children live at or visit the release address").is_visible()
    assert (
        page.locator("[data-page-label]").first.get_attribute("data-page-label")
        == "OFFICIAL-SENSITIVE"
    )
    page.goto(f"{url}/lifecycle/outstanding")
    accessible(page)
    assert page.get_by_text("Nothing outstanding.").is_visible()
    # the only console error is the refused form's deliberate 400 answer
    assert [e for e in errors if "status of 400" not in e] == []
