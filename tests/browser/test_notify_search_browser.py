"""In Chromium: a notification arriving for another agency's new record (header count, list,
opening it), and finding a person by part of a name and by PNC ID."""

from __future__ import annotations

from datetime import date

from shareplatform.records.services import NewRecord, post_record
from tests.browser.test_web_journey import accessible, browser_page, sign_in  # noqa: F401 - fixture
from tests.factories import ctx_for
from tests.functional.test_web_pages import case_id


def test_notification_for_another_agencys_record(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page, url, errors = browser_page
    with seeded.transaction() as s:  # the prison posts on a case the CT nominal manager holds
        data = NewRecord(
            "CONTACT_OFFICE", date.today(), "OFFICIAL-SENSITIVE", [], "Wing move today", "Body"
        )
        post_record(ctx_for(seeded, s, "pom.parker"), case_id(seeded, "SP-1001"), data)
    sign_in(page, url, seeded, "nm.nash")
    link = page.get_by_role("link", name="Notifications (1 unread)")
    link.click()
    page.wait_for_url("**/notifications")
    accessible(page)
    row = page.locator("#notifications tbody tr").first
    assert row.get_attribute("data-unread") == "true"
    assert "New record on case SP-1001: Wing move today" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url("**/records/**")
    page.goto(url + "/notifications")
    assert page.locator("#notifications tbody tr").first.get_attribute("data-unread") == "false"
    assert page.get_by_role("link", name="Notifications", exact=True).is_visible()
    accessible(page)
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_search_by_part_of_a_name_and_by_pnc(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page, url, _ = browser_page
    sign_in(page, url, seeded, "nm.nash")
    page.get_by_role("link", name="Search").first.click()
    page.get_by_label("Name, part of a name, date of birth or identifier").fill("bil")
    page.get_by_role("button", name="Search").click()
    accessible(page)
    assert "Bilal" in page.locator("table.govuk-table").inner_text()
    page.get_by_label("Name, part of a name, date of birth or identifier").fill("2001/0100037A")
    page.get_by_role("button", name="Search").click()
    accessible(page)
    assert page.get_by_role("link", name="SP-1002").is_visible()
