"""Policy administration in Chromium: a flagged change needs a second administrator, takes effect
for a POM, and rollback restores the previous behaviour. axe-core checks every admin page."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from shareplatform.accounts.models import User
from tests.factories import DEMO_PASSWORD, app_for
from tests.functional.test_web_pages import case_id
from tests.security.demo_support import secret_items
from tests.support.browser import (
    LiveServer,
    chromium_available,
    format_violations,
    launch_chromium,
    run_axe,
)
from tests.support.web import fresh_code

pytestmark = pytest.mark.browser


def _honsu_minute(seeded) -> str:  # type: ignore[no-untyped-def]
    """The text of honsu's SECRET minute on SP-1001 (no ORCON), found by label and id."""
    [item] = [
        i
        for i in secret_items(seeded)
        if i.kind == "record" and i.case_reference == "SP-1001" and "Closed session" in i.text
    ]
    return item.text


@pytest.fixture
def live(seeded) -> Iterator[tuple[object, str]]:  # type: ignore[no-untyped-def]
    if not chromium_available():
        if os.environ.get("SHAREPLATFORM_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (SHAREPLATFORM_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, LiveServer(app_for(seeded)) as server:
        browser = launch_chromium(pw)
        yield browser, server.url
        browser.close()


def accessible(page) -> None:  # type: ignore[no-untyped-def]
    violations = run_axe(page)
    assert violations == [], f"{page.url}\n{format_violations(violations)}"


def signed_in(browser, url: str, seeded, username: str):  # type: ignore[no-untyped-def]
    page = browser.new_context().new_page()
    page.goto(url + "/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/code**")
    page.get_by_label("Enter your security code").fill(fresh_code(seeded, username))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert "/sign-in" not in page.url
    return page


def test_two_administrators_apply_a_flagged_change_then_roll_it_back(live, seeded) -> None:  # type: ignore[no-untyped-def]
    SECRET_TEXT = _honsu_minute(seeded)
    browser, url = live
    with (
        seeded.transaction() as session
    ):  # a POM who holds SC vetting: only policy keeps SECRET from them
        # raising clearance waits for a second administrator (the seed's policy.admin cannot)
        pom_parker = session.scalars(select(User).where(User.username == "pom.parker")).one()
        pom_parker.vetting = "SC"
    case_url = f"{url}/cases/{case_id(seeded, 'SP-1001')}"
    pom = signed_in(browser, url, seeded, "pom.parker")
    pom.goto(case_url)
    assert SECRET_TEXT not in pom.content()

    admin1 = signed_in(browser, url, seeded, "policy.admin")
    admin1.goto(url + "/admin/policy")
    accessible(admin1)
    admin1.get_by_label("Start a change: what is it for?").fill(
        "POMs read SECRET on their own cases"
    )
    admin1.get_by_role("button", name="Start a draft change").click()
    admin1.wait_for_url("**/admin/policy/drafts/*")
    draft_url = admin1.url
    accessible(admin1)
    admin1.select_option("#add-subject", "POM")
    admin1.fill("#add-object", "record/*")
    admin1.select_option("#add-action", "read")
    admin1.select_option("#add-label", "SECRET")
    admin1.select_option("#add-condition", "team")
    admin1.select_option("#add-effect", "allow")
    admin1.fill("#add-reason", "Pilot: POMs see the secret decisions on their cases")
    admin1.get_by_role("button", name="Add line to draft").click()
    admin1.wait_for_load_state()
    admin1.get_by_text("Change or remove a live line").click()
    admin1.select_option("#remove-target", label="p, frontline, *, read, SECRET, any, deny")
    admin1.get_by_role("button", name="Remove line in draft").click()
    admin1.wait_for_load_state()
    assert admin1.locator('[data-flag="secret_outside_corridor"]').count() == 1
    assert admin1.locator('[data-whatif="gain-SECRET-PRISON"]').count() == 1  # pom.parker gains
    accessible(admin1)
    admin1.get_by_role("button", name="Apply change").click()
    admin1.wait_for_load_state()
    assert "second policy administrator" in admin1.locator("[data-message]").first.inner_text()
    pom.reload()
    assert SECRET_TEXT not in pom.content()

    admin2 = signed_in(browser, url, seeded, "policy.admin2")
    admin2.goto(draft_url)
    admin2.get_by_label("Reason for approving (two-person rule)").fill(
        "Agreed at the governance board"
    )
    admin2.get_by_role("button", name="Approve change").click()
    admin2.wait_for_load_state()
    admin2.get_by_role("button", name="Apply change").click()
    admin2.wait_for_url("**/admin/policy/versions**")
    assert "is now live" in admin2.content()
    accessible(admin2)

    pom.reload()
    assert SECRET_TEXT in pom.content()

    admin1.goto(url + "/admin/policy/versions")
    admin1.locator("#reason-1").fill("Pilot over")
    admin1.get_by_role("button", name="Restore version 1").click()
    admin1.wait_for_url("**/admin/policy/versions**")
    assert "Policy version 3 is now live" in admin1.content()
    pom.reload()
    assert SECRET_TEXT not in pom.content()
