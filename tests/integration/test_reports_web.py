"""The management-information pages: charts without script, data tables, CSV, CSP intact."""

from __future__ import annotations

import re

from shareplatform.reports.charts import bar_svg, stylesheet
from tests.factories import app_for
from tests.support.web import sign_in, text


def test_chart_svg_holds_no_script_style_or_handlers() -> None:
    svg = bar_svg(
        "Cases <by> cohort", ["Terrorist", "<script>alert(1)</script>", "Small"], [7, 5, None]
    )
    assert "<script" not in svg and "<style" not in svg and not re.search(r"\s(on\w+|style)=", svg)
    assert "&lt;script&gt;" in svg  # labels are escaped text
    assert 'role="img"' in svg and "<title>Cases &lt;by&gt; cohort</title>" in svg
    assert ".app-chart" in stylesheet() and "#chart-" not in stylesheet()


def test_dashboard_page_csv_and_csp(seeded) -> None:  # type: ignore[no-untyped-def]
    client = app_for(seeded).test_client()
    sign_in(client, seeded, "honsu.hughes")
    r = client.get("/reports")
    page = text(r)
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    # styles only from the app itself or a per-request nonce (the minutes export): no inline styles
    assert re.search(r"style-src 'self'( 'nonce-[\w-]+')?;", csp) and "unsafe-inline" not in csp
    assert page.count("<svg") >= 6 and '<script type="text/javascript"' not in page
    assert "SP-1026" in page and 'id="reviews-due"' in page
    assert "SECRET" in page  # the SECRET-derived counts are labelled
    assert client.get("/reports/charts.css").headers["Content-Type"].startswith("text/css")
    csv = client.get("/reports/figures/level.csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["Content-Disposition"]
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0] == "Classification: OFFICIAL-SENSITIVE" and lines[1] == "MAPPA level,Cases"
    assert client.get("/reports/figures/nothing.csv").status_code == 404
    assert "SP-1026" in text(client.get("/reports/reviews"))


def test_national_page_suppresses_small_numbers_and_frontline_sees_no_secret(seeded) -> None:  # type: ignore[no-untyped-def]
    client = app_for(seeded).test_client()
    sign_in(client, seeded, "pct.palmer")
    page = text(client.get("/reports"))
    assert "National" in page and "fewer than 5" in page and "SP-10" not in page
    assert "London,fewer than 5" in client.get("/reports/figures/nsd_unit.csv").get_data(
        as_text=True
    )
    other = app_for(seeded).test_client()
    sign_in(other, seeded, "com.cole")
    page = text(other.get("/reports"))
    assert 'id="figure-secret"' not in page and "Your cases" in page


def test_case_standards_page_and_platform_roles(seeded) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from shareplatform.cases.models import Case

    with seeded.transaction() as s:
        sp1002 = s.scalar(select(Case.id).where(Case.reference == "SP-1002"))
        other = s.scalar(select(Case.id).where(Case.reference == "SP-1003"))  # com.cole's
    client = app_for(seeded).test_client()
    sign_in(client, seeded, "com.evans")
    page = text(client.get(f"/reports/cases/{sp1002}/standards"))
    assert "Two contacts a week for the first 12 months" in page and "Not met" in page
    assert client.get(f"/reports/cases/{other}/standards").status_code == 404  # not their case
    admin = app_for(seeded).test_client()
    sign_in(admin, seeded, "auditor.adams")
    assert admin.get("/reports").status_code == 403
