"""axe-core on the newest pages, in Chromium, as the demo users who may open them: emergency
access (and its error state), the break-glass reviews, the lifecycle plan, steps and sharing
pages of SP-1001, and the API tokens pages. No serious or critical violations on any of them."""

from __future__ import annotations

import pytest

from tests.browser.test_web_journey import accessible, sign_in
from tests.browser.test_web_journey import browser_page as browser_page
from tests.functional.test_web_pages import case_id

pytestmark = pytest.mark.browser


def visit(page, url: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    accessible(page)


def as_user(page, url: str, seeded, username: str) -> None:  # type: ignore[no-untyped-def]
    """Start a fresh session (no cookies) and sign in through the real forms."""
    page.context.clear_cookies()
    sign_in(page, url, seeded, username)


def test_newest_pages_have_no_serious_axe_violations(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = browser_page
    sp1001 = case_id(seeded, "SP-1001")

    as_user(page, url, seeded, "pom.quinn")
    visit(page, f"{url}/emergency-access")
    with page.expect_navigation():
        page.get_by_role("button", name="Take emergency access").click()
    page.get_by_role("alert").get_by_text("Enter the case reference").wait_for()
    accessible(page)

    as_user(page, url, seeded, "honsu.hughes")
    visit(page, f"{url}/break-glass/reviews")

    as_user(page, url, seeded, "com.cole")
    visit(page, f"{url}/cases/{sp1001}/lifecycle")
    for part in ("plan/new", "steps", "sharing"):
        visit(page, f"{url}/cases/{sp1001}/lifecycle/{part}")
    visit(page, f"{url}/account/tokens")
    visit(page, f"{url}/account/tokens/new")

    # the only console error is the refused emergency-access form's deliberate 400 answer
    assert [e for e in errors if "status of 400" not in e] == []
