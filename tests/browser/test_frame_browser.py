"""The frame in Chromium: banners in all three colours pass axe (contrast included), and printing
hides navigation, buttons and form controls while keeping the banner at the top and bottom of
every printed sheet (the @page margin boxes of shareplatform/templates/base.html and
shareplatform/static/css/app.css, @media print)."""

from __future__ import annotations

import pytest

from tests.browser.test_web_journey import accessible, sign_in
from tests.browser.test_web_journey import browser_page as browser_page
from tests.functional.test_web_pages import case_id

pytestmark = pytest.mark.browser

BANNER = ".app-classification"
# The contents of the @page margin boxes: the marking Chromium prints on every sheet.
PAGE_MARKINGS = """() => [...document.styleSheets].flatMap(sheet => [...sheet.cssRules])
  .flatMap(rule => rule instanceof CSSMediaRule ? [...rule.cssRules] : [rule])
  .filter(rule => rule instanceof CSSPageRule)
  .flatMap(rule => [...rule.cssRules].map(box => box.style.getPropertyValue("content")))
  .filter(Boolean)"""


def banner_colours(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector(
        f"{BANNER}--top",
        "e => ({label: e.dataset.pageLabel, bg: getComputedStyle(e).backgroundColor})",
    )


def check_print(page) -> None:  # type: ignore[no-untyped-def]
    """Under print media: no navigation, buttons or form controls; the banners shown, and the
    page's marking in the top and bottom margin of every sheet."""
    page.emulate_media(media="print")
    try:
        for hidden in (".govuk-service-navigation", ".govuk-generic-header", ".govuk-footer"):
            assert page.locator(hidden).count() == 0 or not page.locator(hidden).first.is_visible()
        for kind in ("button", "input:not([type=hidden])", "select", "textarea", "nav"):
            shown = [e for e in page.locator(kind).all() if e.is_visible()]
            assert shown == [], f"{kind} visible in print on {page.url}"
        for where in ("top", "bottom"):
            assert page.locator(f"{BANNER}--{where}").is_visible(), where
        label = page.locator(f"{BANNER}--top").get_attribute("data-page-label")
        assert page.evaluate(PAGE_MARKINGS) == [f'"{label}"', f'"{label}"'], page.url
    finally:
        page.emulate_media(media="screen")


def test_banners_in_each_colour_pass_axe_and_print_with_the_page(browser_page, seeded) -> None:  # type: ignore[no-untyped-def]
    page, url, errors = browser_page
    seen: dict[str, str] = {}

    page.goto(f"{url}/accessibility")  # public, OFFICIAL
    accessible(page)
    check_print(page)
    colours = banner_colours(page)
    seen[colours["label"]] = colours["bg"]

    sign_in(page, url, seeded, "com.cole")  # the caseload: OFFICIAL-SENSITIVE
    check_print(page)
    colours = banner_colours(page)
    seen[colours["label"]] = colours["bg"]

    page.context.clear_cookies()
    sign_in(page, url, seeded, "honsu.hughes")
    page.goto(f"{url}/cases/{case_id(seeded, 'SP-1001')}")  # SECRET for the corridor
    accessible(page)
    check_print(page)
    colours = banner_colours(page)
    seen[colours["label"]] = colours["bg"]

    assert set(seen) == {"OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET"}
    assert len(set(seen.values())) == 3, seen  # each marking its own colour
    header = page.eval_on_selector(
        ".govuk-generic-header", "e => getComputedStyle(e).backgroundColor"
    )
    assert header not in seen.values()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_public_pages_pass_axe_and_keyboard_reaches_the_footer_links(browser_page) -> None:  # type: ignore[no-untyped-def]
    page, url, _ = browser_page
    for path in ("/accessibility", "/cookies", "/contact"):
        response = page.goto(url + path)
        assert response is not None and response.status == 200, path
        accessible(page)
    focused = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert focused[0] == "Skip to main content"
    for link in ("Accessibility statement", "Cookies", "Contact"):
        assert link in focused, focused
