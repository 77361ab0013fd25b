"""Exporting the case summary as a PDF is its own act ("case, export" in policies/policy.csv),
separate from reading it: a reader who may not export is refused as any export is, the refusal
is audited, and the page offers the download only to those who may."""

from __future__ import annotations

from uuid import UUID

import pytest
from sqlalchemy import select

from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case
from shareplatform.mappa import models as m
from tests.factories import app_for
from tests.support.web import sign_in, text

DOWNLOAD = "Download this summary (PDF)"


@pytest.fixture
def web(seeded):  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        case = s.scalar(select(Case.id).where(Case.reference == "SP-1001"))
        meeting = s.scalar(select(m.MappaMeeting.id).where(m.MappaMeeting.case_id == case))
    assert case is not None and meeting is not None
    return seeded, app_for(seeded), str(case), str(meeting)


def _client(web, username: str):  # type: ignore[no-untyped-def]
    platform, app, _case, _meeting = web
    client = app.test_client()
    sign_in(client, platform, username)
    return client


def _title(html: str) -> str:
    return html[html.index("<title>") : html.index("</title>")]


def test_an_exporter_is_offered_the_pdf_and_gets_it(web) -> None:  # type: ignore[no-untyped-def]
    _platform, _app, case, _meeting = web
    honsu = _client(web, "honsu.hughes")
    assert DOWNLOAD in text(honsu.get(f"/cases/{case}"))
    r = honsu.get(f"/cases/{case}/summary.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"


def test_a_reader_who_may_not_export_is_refused_as_any_export_is(web) -> None:  # type: ignore[no-untyped-def]
    """com.cole reads the case and its summary, but is frontline: no "case, export"."""
    platform, _app, case, meeting = web
    com = _client(web, "com.cole")
    page = com.get(f"/cases/{case}")
    assert page.status_code == 200 and 'id="summary-heading"' in text(page)
    assert DOWNLOAD not in text(page)  # pages offer only what the user may do
    refused = com.get(f"/cases/{case}/summary.pdf")
    minutes = com.get(f"/mappa/meetings/{meeting}/minutes.pdf?cap=OFFICIAL-SENSITIVE")
    assert refused.status_code == minutes.status_code == 403
    assert refused.mimetype == minutes.mimetype == "text/html"
    assert _title(text(refused)) == _title(text(minutes))
    assert "You may not export this case summary" in text(refused)
    with platform.transaction() as s:
        denied = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "case.summary.export",
                AuditEntry.case_id == str(UUID(case)),
                AuditEntry.actor == "com.cole",
            )
        ).all()
    assert [(e.outcome, e.label) for e in denied] == [("deny", "OFFICIAL-SENSITIVE")]


def test_a_platform_role_is_still_refused_as_if_the_case_were_absent(web) -> None:  # type: ignore[no-untyped-def]
    _platform, _app, case, _meeting = web
    auditor = _client(web, "auditor.adams")
    unknown = auditor.get("/cases/00000000-0000-4000-8000-000000000000/summary.pdf")
    assert auditor.get(f"/cases/{case}/summary.pdf").status_code == unknown.status_code
