"""Management information and rec 20 in Chromium: a HoNSU's review list; a police visit refused."""

from __future__ import annotations

from datetime import date, timedelta

from tests.browser.test_web_journey import accessible, browser_page, sign_in  # noqa: F401 - fixture
from tests.functional.test_web_pages import case_id


def test_honsu_sees_level3_reviews_due_and_charts(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page, url, errors = browser_page
    sign_in(page, url, seeded, "honsu.hughes")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports")
    accessible(page)
    reviews = page.locator("#reviews-due")
    assert (
        "SP-1026" in reviews.inner_text() and "SP-1030" not in reviews.inner_text()
    )  # London is not hers
    assert page.locator("svg.app-chart").count() >= 6
    assert page.locator("#table-level").is_visible()
    # the chart stylesheet applied (a same-origin file): bars take the configured colour
    fill = page.evaluate("getComputedStyle(document.querySelector('svg.app-chart .rect')).fill")
    assert fill == "rgb(29, 112, 184)", fill
    page.get_by_role("link", name="All reviews due").click()
    page.wait_for_url("**/reports/reviews")
    accessible(page)
    link = page.get_by_role("link", name="SP-1026")
    assert link.get_attribute("href") == f"/cases/{case_id(seeded, 'SP-1026')}"
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_police_home_visit_refused_without_a_prior_assessment(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page, url, _ = browser_page
    sign_in(page, url, seeded, "nm.nash")
    page.goto(f"{url}/cases/{case_id(seeded, 'SP-1002')}/records/new")
    page.select_option("#record_type", "CONTACT_HOME_VISIT")
    day = date.today() - timedelta(
        days=10
    )  # the demo's risk assessment was 3 days ago: after this visit
    page.fill("#occurred_on-day", str(day.day))
    page.fill("#occurred_on-month", str(day.month))
    page.fill("#occurred_on-year", str(day.year))
    page.get_by_label("Title").fill("Police home visit")
    page.get_by_label("Details").fill("Visited the address with a colleague.")
    page.get_by_role("button", name="Save record").click()
    accessible(page)
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "home-visit risk assessment" in summary.inner_text()
    assert page.get_by_label("Details").input_value() == "Visited the address with a colleague."
