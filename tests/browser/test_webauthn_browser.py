"""A security key in Chromium: its virtual authenticator (DevTools' WebAuthn domain) stands in for
a USB key. Add the key from the account page, sign out, sign in with the key instead of a code.
axe-core checks the key pages.

The pages are opened on http://localhost: WebAuthn refuses an IP address as the relying party."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.browser.test_web_journey import accessible
from tests.factories import DEMO_PASSWORD, app_for
from tests.support.browser import LiveServer, chromium_available, launch_chromium
from tests.support.web import fresh_code

pytestmark = pytest.mark.browser

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "usb",
    "hasResidentKey": False,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture
def key_page(seeded) -> Iterator[tuple[object, object, str, list[str]]]:  # type: ignore[no-untyped-def]
    if not chromium_available():
        if os.environ.get("SHAREPLATFORM_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (SHAREPLATFORM_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, LiveServer(app_for(seeded)) as server:
        browser = launch_chromium(pw)
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        yield page, (cdp, added["authenticatorId"]), f"http://localhost:{server.port}", errors
        browser.close()


def password(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/sign-in")
    page.get_by_label("Username").fill("com.cole")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/code**")


def test_add_a_security_key_sign_out_and_sign_in_with_it(key_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, (cdp, authenticator), url, errors = key_page
    password(page, url)
    assert page.get_by_role("button", name="Use your security key").count() == 0  # no key yet
    page.get_by_label("Enter your security code").fill(fresh_code(seeded, "com.cole"))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/cases")

    page.goto(url + "/account")
    page.get_by_role("link", name="Manage your security keys").click()
    page.wait_for_url("**/account/keys")
    accessible(page)
    page.get_by_label("Name for this key").fill("Blue key")
    page.get_by_label("Security code").fill(fresh_code(seeded, "com.cole"))
    page.get_by_role("button", name="Add security key").click()
    page.wait_for_url("**/account/keys?added=*")
    assert "Security key 'Blue key' added" in page.content()
    accessible(page)
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in?reason=signed-out")

    password(page, url)
    accessible(page)
    page.get_by_role("button", name="Use your security key").click()
    page.wait_for_url("**/cases")
    assert "My caseload" in page.content()
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert stored["credentials"][0]["signCount"] >= 2  # one at creation, one at sign-in

    page.goto(url + "/account/keys")
    assert "Never" not in page.locator("#keys").inner_text()  # last used is shown
    assert errors == []
