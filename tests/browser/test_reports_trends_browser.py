"""Trends over time in Chromium: the filter form, the charts and their tables pass axe."""

from __future__ import annotations

from tests.browser.test_web_journey import accessible, browser_page, sign_in  # noqa: F401 - fixture


def test_trends_page_filters_and_passes_axe(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page, url, errors = browser_page
    sign_in(page, url, seeded, "honsu.hughes")
    page.goto(f"{url}/reports")
    accessible(page)
    page.get_by_role("link", name="Trends over time by unit and period").click()
    page.wait_for_url("**/reports/trends")
    accessible(page)
    page.select_option("#unit", "nsd:North")
    page.select_option("#months", "6")
    page.get_by_role("button", name="Show trends").click()
    page.wait_for_url("**/reports/trends?unit=nsd%3ANorth&months=6")
    accessible(page)
    assert page.locator("svg.app-chart").count() == 2
    assert page.locator("#table-activity tbody tr").count() == 6
    # the series differ by dash pattern too, from the same-origin stylesheet
    dash = page.evaluate(
        "getComputedStyle(document.querySelector('svg.app-chart .serie-1 .line')).strokeDasharray"
    )
    assert dash not in ("none", ""), dash
    assert not [e for e in errors if "Content Security Policy" in e], errors
