"""The practitioner journey in Chromium: sign-in with TOTP, posting, access limits, accessibility.

axe-core runs on every page visited and must report no serious or critical violations.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from tests.factories import app_for
from tests.functional.test_web_pages import case_id
from tests.security.demo_support import secret_items, shows_secret
from tests.support.browser import (
    LiveServer,
    chromium_available,
    format_violations,
    launch_chromium,
    run_axe,
)
from tests.support.web import fresh_code

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page(seeded) -> Iterator[tuple[object, str, object]]:  # type: ignore[no-untyped-def]
    if not chromium_available():
        if os.environ.get("SHAREPLATFORM_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (SHAREPLATFORM_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, LiveServer(app_for(seeded)) as server:
        browser = launch_chromium(pw)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        yield page, server.url, errors
        browser.close()


def accessible(page) -> None:  # type: ignore[no-untyped-def]
    violations = run_axe(page)
    assert violations == [], f"{page.url}\n{format_violations(violations)}"


def sign_in(page, url: str, seeded, username: str) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import DEMO_PASSWORD

    page.goto(url + "/sign-in")
    accessible(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/code**")
    accessible(page)
    page.get_by_label("Enter your security code").fill(fresh_code(seeded, username))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/cases")
    accessible(page)


def test_sign_in_post_a_note_and_see_it_on_the_case(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = browser_page
    sign_in(page, url, seeded, "com.cole")
    assert page.locator("[data-page-label]").count() == 2
    page.get_by_role("link", name="SP-1005").click()  # a community case: office contacts
    page.wait_for_url("**/cases/*")
    accessible(page)
    page.get_by_role("button", name="Add a record").click()
    page.wait_for_url("**/records/new")
    accessible(page)
    page.select_option("#record_type", "CONTACT_OFFICE")  # no type is chosen for them
    day = date.today() - timedelta(days=2)
    page.fill("#occurred_on-day", str(day.day))
    page.fill("#occurred_on-month", str(day.month))
    page.fill("#occurred_on-year", str(day.year))
    page.get_by_label("Title").fill("Browser-posted office visit")
    page.get_by_label("Details").fill("Attended on time; discussed the curfew.")
    page.get_by_role("button", name="Save record").click()
    page.wait_for_url("**/cases/*")
    accessible(page)
    assert page.get_by_text("Record saved").is_visible()
    record = page.locator("article.app-record", has_text="Browser-posted office visit")
    assert record.get_attribute("data-label") == "OFFICIAL-SENSITIVE"
    assert "OFFICIAL-SENSITIVE" in record.locator(".app-label").inner_text()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_errors_show_the_summary_and_keep_what_was_typed(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, _ = browser_page
    sign_in(page, url, seeded, "com.cole")
    page.goto(f"{url}/cases/{case_id(seeded, 'SP-1001')}/records/new")
    page.get_by_label("Details").fill("Typed before the error")
    page.get_by_role("button", name="Save record").click()
    accessible(page)
    assert page.locator(".govuk-error-summary").is_visible()
    assert page.get_by_label("Details").input_value() == "Typed before the error"


def test_pom_on_another_case_cannot_reach_it(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, _ = browser_page
    sign_in(page, url, seeded, "pom.quinn")
    response = page.goto(f"{url}/cases/{case_id(seeded, 'SP-1001')}")
    assert response is not None and response.status == 404
    accessible(page)
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert "Adam Abbott" not in page.content()


def test_com_on_the_team_sees_the_marker_never_secret(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, _ = browser_page
    sign_in(page, url, seeded, "com.cole")
    page.goto(f"{url}/cases/{case_id(seeded, 'SP-1001')}")
    accessible(page)
    assert page.get_by_text("Further information is held").first.is_visible()
    html = page.content()
    assert shows_secret(html, secret_items(seeded), ids=True) == []
    assert 'data-label="SECRET"' not in html


def test_keyboard_only_sign_in(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import DEMO_PASSWORD

    page, url, _ = browser_page
    page.goto(url + "/sign-in")

    def tab_to(element_id: str) -> None:
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
                return
        raise AssertionError(f"could not reach #{element_id} with the keyboard")

    tab_to("username")
    page.keyboard.type("nm.nash")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/sign-in/code**")
    tab_to("code")
    page.keyboard.type(fresh_code(seeded, "nm.nash"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases")
    accessible(page)
    assert page.get_by_role("heading", name="My caseload").is_visible()
