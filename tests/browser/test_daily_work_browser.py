"""Daily work in Chromium: a form's error summary lists every field error at once and links to
each field; the case summary answers "what do I need to know now"; a chair downloads the minutes
as a PDF whose every page carries the marking. axe-core checks each page."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from shareplatform.mappa.models import MappaMeeting
from tests.browser.test_web_journey import accessible, browser_page, sign_in
from tests.functional.test_web_pages import case_id

__all__ = ["browser_page"]  # the fixture, used by name


def test_the_error_summary_lists_every_field_error(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, _ = browser_page
    sign_in(page, url, seeded, "com.cole")
    page.goto(f"{url}/cases/{case_id(seeded, 'SP-1005')}/records/new")
    page.get_by_role("button", name="Save record").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert page.title().startswith("Error: ")
    links = summary.locator("a")
    assert links.count() >= 3  # type, date, title and details were all missing: one submit
    for n in range(links.count()):
        target = links.nth(n).get_attribute("href")
        assert target and target.startswith("#")
        assert page.locator(target).count() == 1, f"{target} names no field"
        assert "_" not in links.nth(n).inner_text().split()[0]  # words, not codes
    accessible(page)


def test_the_case_summary_answers_what_matters_now(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, _ = browser_page
    sign_in(page, url, seeded, "com.cole")
    page.goto(f"{url}/cases/{case_id(seeded, 'SP-1005')}")
    summary = page.locator("#summary-facts")
    summary.wait_for()
    facts = summary.inner_text()
    for heading in ("Phase", "MAPPA level", "Actions"):
        assert heading in facts, facts
    assert page.locator("#summary-contacts li").count() >= 1  # who to call
    # the summary comes before the timeline, and the timeline before the team
    order = page.evaluate(
        """() => ['summary-heading', 'timeline-heading', 'team-heading'].map(
               id => document.getElementById(id)?.getBoundingClientRect().top ?? -1)"""
    )
    assert order[0] >= 0 and order == sorted(order), order
    accessible(page)


def test_a_chair_downloads_minutes_marked_on_every_page(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, _ = browser_page
    with seeded.transaction() as s:
        meeting_id = s.scalar(
            select(MappaMeeting.id).where(MappaMeeting.chair_id.is_not(None)).limit(1)
        )
    sign_in(page, url, seeded, "honsu.hughes")
    page.goto(f"{url}/mappa/meetings/{meeting_id}")
    accessible(page)
    page.select_option("#cap", "SECRET")
    with page.expect_download() as download:
        page.get_by_role("button", name="PDF").click()
    got = download.value
    assert got.suggested_filename.startswith("SECRET"), got.suggested_filename
    pages = PdfReader(BytesIO(Path(got.path()).read_bytes())).pages
    assert len(pages) >= 1
    for n, sheet in enumerate(pages, start=1):
        assert sheet.extract_text().count("SECRET") >= 2, f"page {n} lacks its marking"
