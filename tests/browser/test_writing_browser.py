"""Never losing writing, in Chromium: the GOV.UK timeout warning two minutes before the idle
timeout (a short timeout in the test app's config; the page's clock is moved on by Playwright),
"Stay signed in", and a form posted when the session ended restored after signing in again.
axe-core checks the dialog and the restored form."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from shareplatform.accounts.models import UserSession
from shareplatform.db import utcnow
from tests.browser.test_web_journey import accessible, sign_in
from tests.factories import DEMO_PASSWORD, app_for
from tests.functional.test_web_pages import case_id
from tests.support.browser import LiveServer, chromium_available, launch_chromium
from tests.support.web import fresh_code

pytestmark = pytest.mark.browser
NOTE = "Talked through the move to approved premises; no concerns raised today."


@pytest.fixture
def writing_page(seeded) -> Iterator[tuple[object, str, list[str]]]:  # type: ignore[no-untyped-def]
    if not chromium_available():
        if os.environ.get("SHAREPLATFORM_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (SHAREPLATFORM_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    app = app_for(seeded)
    app.config["SESSION_IDLE_MINUTES"] = 3  # the warning shows after one minute
    with sync_playwright() as pw, LiveServer(app) as server:
        browser = launch_chromium(pw)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: errors.append(r.url) if r.status == 404 else None)
        page.clock.install()
        yield page, server.url, errors
        browser.close()


def test_the_timeout_warning_and_stay_signed_in(writing_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = writing_page
    sign_in(page, url, seeded, "com.cole")
    page.goto(f"{url}/cases/{case_id(seeded, 'SP-1001')}/records/new")
    dialog = page.locator("#timeout-warning")
    assert not dialog.is_visible()
    page.clock.run_for(61_000)
    dialog.wait_for(state="visible")
    assert "You will be signed out in 2 minutes" in page.locator("[data-announce]").inner_text()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Stay signed in"
    accessible(page)
    with page.expect_response("**/session/keep-alive") as answer:
        page.get_by_role("button", name="Stay signed in").click()
    assert answer.value.status == 200
    dialog.wait_for(state="hidden")
    # the browser's own /favicon.ico request (the page names no icon) is not one of ours: any
    # 404 of the page's resources is listed by URL
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []


def test_a_form_sent_after_the_timeout_is_restored_after_signing_in(writing_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = writing_page
    sign_in(page, url, seeded, "com.cole")
    page.goto(f"{url}/cases/{case_id(seeded, 'SP-1001')}/records/new")
    page.get_by_label("Title").fill("Approved premises")
    page.get_by_label("Details").fill(NOTE)
    with seeded.transaction() as s:  # the server's idle clock runs out
        s.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    page.clock.run_for(181_000)  # the page's countdown ends: the form is sent and kept
    page.wait_for_url("**/sign-in?**")
    assert "restore" in page.url
    page.get_by_label("Username").fill("com.cole")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/code**")
    page.get_by_label("Enter your security code").fill(fresh_code(seeded, "com.cole"))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/records/new?restore=*")
    assert page.get_by_label("Details").input_value() == NOTE
    assert page.get_by_label("Title").input_value() == "Approved premises"
    accessible(page)
