"""The case summary, the timeline filters and the PDF exports (case summary, MAPPA minutes)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from uuid import UUID

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from shareplatform.audit.models import AuditEntry
from shareplatform.briefing.services import case_summary
from shareplatform.cases.models import Case
from shareplatform.cases.services import case_view
from shareplatform.mappa import models as m
from tests.factories import app_for
from tests.integration.mappa_world import build_world, decide, decision_data, disclosure, meeting
from tests.support.web import sign_in, text

PAST = date.today() - timedelta(days=40)


@pytest.fixture
def overdue(platform):  # type: ignore[no-untyped-def]
    """Two SECRET actions agreed 40 days ago, both overdue: ONE owned by the COM (a break-out
    released to them), TWO owned by the LRO (the COM may not see it at all)."""
    world = build_world(platform)
    with platform.transaction() as s:
        mt = meeting(world, s, today=PAST)
        dc = disclosure(world, s)
        decide(world, s, decision_data(world, mt.id, [dc.id], today=PAST), today=PAST)
    return world


def _summary(world, who: str):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        c = world.ctx(s, who)
        return case_summary(c, case_view(c, world.case_id))


def test_corridor_reader_counts_every_overdue_action(overdue) -> None:  # type: ignore[no-untyped-def]
    honsu = _summary(overdue, "honsu")
    assert len(honsu.open_actions) == 2 and len(honsu.overdue_actions) == 2
    assert any("ACTION-TWO-SECRET" in a.text for a in honsu.overdue_actions)
    assert honsu.highest.marking == "SECRET"


def test_frontline_reader_never_counts_a_secret_action_they_may_not_see(overdue) -> None:  # type: ignore[no-untyped-def]
    com = _summary(overdue, "com")
    texts = " ".join(a.text for a in com.open_actions)
    assert "ACTION-TWO-SECRET" not in texts and "ACTION-ONE-SECRET" not in texts
    # only the break-out released to them: one open, one overdue, at OFFICIAL-SENSITIVE
    assert len(com.open_actions) == 1 and len(com.overdue_actions) == 1
    assert "BREAKOUT-TEXT" in texts and com.highest.marking == "OFFICIAL-SENSITIVE"


def test_summary_key_dates_and_who_to_call(overdue) -> None:  # type: ignore[no-untyped-def]
    world = overdue
    with world.platform.transaction() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        case.release_date = date.today() + timedelta(days=10)
    summary = _summary(world, "honsu")
    dates = {d.title: d for d in summary.key_dates}
    assert dates["Release"].days == 10
    assert dates["Licence end"].on is None and dates["Plan review"].note == "No plan you can see"
    assert summary.mappa_level == 3 and summary.phase


# -- through the web, over the demo data ---------------------------------------------------------
@pytest.fixture
def web(seeded):  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        case = str(s.scalar(select(Case.id).where(Case.reference == "SP-1001")))
    return seeded, app_for(seeded), case


def _items(html: str) -> str:
    return html[html.index('id="timeline-heading"') : html.index('id="team-heading"')]


def test_case_page_shows_summary_then_timeline_then_team(web) -> None:  # type: ignore[no-untyped-def]
    platform, app, case = web
    client = app.test_client()
    sign_in(client, platform, "honsu.hughes")
    html = text(client.get(f"/cases/{case}"))
    assert html.index('id="summary-heading"') < html.index('id="timeline-heading"')
    assert html.index('id="timeline-heading"') < html.index('id="team-heading"')
    assert 'type="checkbox"' in html and 'name="agency"' in html


def test_filters_by_several_types_and_by_attending_agency(web) -> None:  # type: ignore[no-untyped-def]
    platform, app, _ = web
    with platform.transaction() as s:  # a community case: joint visits happen there
        case = str(s.scalar(select(Case.id).where(Case.reference == "SP-1005")))
    client = app.test_client()
    sign_in(client, platform, "com.cole")
    everything = _items(text(client.get(f"/cases/{case}")))
    joint = _items(text(client.get(f"/cases/{case}?type=CONTACT_JOINT_VISIT")))
    both = _items(
        text(client.get(f"/cases/{case}?type=CONTACT_JOINT_VISIT&type=CONTACT_HOME_VISIT"))
    )
    count = lambda h: h.count('class="app-timeline__item"')  # noqa: E731
    assert 0 < count(joint) <= count(both) <= count(everything)
    # a joint visit written by one agency is listed under every agency that attended it
    for agency in ("NSD", "CTNM"):
        page = _items(text(client.get(f"/cases/{case}?type=CONTACT_JOINT_VISIT&agency={agency}")))
        assert count(page) == count(joint), agency
    assert client.get(f"/cases/{case}?type=NOPE").status_code == 400


def _markings(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_case_summary_pdf_marked_on_every_page_and_audited(web) -> None:  # type: ignore[no-untyped-def]
    platform, app, case = web
    client = app.test_client()
    sign_in(client, platform, "honsu.hughes")
    r = client.get(f"/cases/{case}/summary.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Cache-Control"] == "no-store"
    disposition = r.headers["Content-Disposition"]
    marking = re.search(r'filename="([A-Z-]+(?:-ORCON)?)_', disposition)
    assert disposition.startswith("attachment;") and marking, disposition
    pages = _markings(r.data)
    top = "SECRET" if "SECRET" in disposition else "OFFICIAL-SENSITIVE"
    assert pages and all(p.count(top) >= 2 for p in pages)  # header and footer of each page
    with platform.transaction() as s:
        assert s.scalar(
            select(AuditEntry.seq).where(
                AuditEntry.action == "case.summary.export", AuditEntry.case_id == case
            )
        )


def test_case_summary_pdf_refused_as_if_absent(web) -> None:  # type: ignore[no-untyped-def]
    platform, app, case = web
    client = app.test_client()
    sign_in(client, platform, "auditor.adams")
    assert client.get(f"/cases/{case}/summary.pdf").status_code in (403, 404)


def test_minutes_pdf_marked_on_every_page_only_for_exporters(web) -> None:  # type: ignore[no-untyped-def]
    platform, app, case = web
    with platform.transaction() as s:
        meeting_id = s.scalar(select(m.MappaMeeting.id).where(m.MappaMeeting.case_id == UUID(case)))
    assert meeting_id is not None
    chair = app.test_client()
    sign_in(chair, platform, "honsu.hughes")
    r = chair.get(f"/mappa/meetings/{meeting_id}/minutes.pdf?cap=SECRET")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="SECRET'), disposition
    assert all(p.count("SECRET") >= 2 for p in _markings(r.data))
    frontline = app.test_client()
    sign_in(frontline, platform, "com.cole")
    assert frontline.get(f"/mappa/meetings/{meeting_id}/minutes.pdf?cap=SECRET").status_code in (
        403,
        404,
    )
