"""Emergency access pages: take it by case reference (reason and hours validated, nothing stored
on error, no hint whether a case exists), then the case opens at OFFICIAL-SENSITIVE; the
case's HoNSU sees the use listed and marks it reviewed (CSRF-protected); others cannot."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from shareplatform.access.facts import relation
from shareplatform.audit.models import AuditEntry
from shareplatform.break_glass.models import BreakGlass
from shareplatform.break_glass.views import REFUSED
from shareplatform.cases.models import Case
from shareplatform.cases.services import case_ref
from tests.support.factories import PASSWORD, Member, case, ctx_for, record, user
from tests.support.web import csrf_of, post_form, sign_in, text

REASON = "Nominal reported missing overnight; the duty officer needs the risk plan now."
USER = "pom.quinn"
OUTSIDE, MINE = "BG-2001", "BG-2002"  # North cases; pom.quinn holds only the second


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    """Two North cases reviewed by honsu.hughes: one pom.quinn holds (custody), one they do not
    (community, with an OFFICIAL-SENSITIVE contact and SECRET minutes); a London HoNSU."""
    with platform.transaction() as s:
        quinn = user(platform, s, USER, role="POM", vetting="BPSS", password=PASSWORD)
        hughes = user(
            platform,
            s,
            "honsu.hughes",
            role="HONSU",
            vetting="DV",
            nsd_unit="North",
            password=PASSWORD,
        )
        user(platform, s, "honsu.lambert", role="HONSU", nsd_unit="London", password=PASSWORD)
        com = user(platform, s, "com.cole", role="COM", nsd_unit="North")
        outside = case(platform, s, OUTSIDE, team=[(com, "COM")], panel=[(hughes, "HONSU")])
        record(platform, s, outside.id, com, title="Office appointment")
        record(platform, s, outside.id, hughes, label="SECRET", record_type="MINUTES")
        case(
            platform,
            s,
            MINE,
            phase="CUSTODY",
            team=[Member(quinn, "POM", lead=True)],
            panel=[(hughes, "HONSU")],
        )
    return platform


def _outside_case(platform) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The North case (reviewed by honsu.hughes) that pom.quinn cannot open: (id, reference)."""
    with platform.transaction() as s:
        c = ctx_for(platform, s, USER)
        outside = s.scalar(select(Case).where(Case.reference == OUTSIDE))
        assert outside is not None and outside.nsd_unit == "North"
        rel = relation(c.subject, case_ref(outside))
        assert not (rel.need_to_know or rel.break_glass)
        return str(outside.id), outside.reference


def _grants(platform) -> list[BreakGlass]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        rows = list(s.scalars(select(BreakGlass)))
        s.expunge_all()
        return rows


def _audit(platform, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        s.expunge_all()
        return rows


def _take(client, **data: object):  # type: ignore[no-untyped-def]
    return post_form(client, "/emergency-access", {"reason": REASON, "hours": "4", **data})


def test_emergency_access_opens_the_case_at_official_sensitive(client, platform) -> None:  # type: ignore[no-untyped-def]
    case_id, reference = _outside_case(platform)
    sign_in(client, platform, USER)
    assert client.get(f"/cases/{case_id}").status_code == 404  # before: not even its existence

    form = client.get(f"/emergency-access?case={reference.lower()}")
    html = text(form)
    assert form.status_code == 200 and "govuk-warning-text" in html
    assert "recorded in the audit log" in html and "reviewed by" in html
    assert f'value="{reference}"' in html  # prefilled from the link

    r = _take(client, reference=reference)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/cases/{case_id}")
    page = client.get(f"/cases/{case_id}")
    body = text(page)
    assert page.status_code == 200 and reference in body and "Office appointment" in body
    assert "SECRET-ONLY-TEXT-" not in body and 'data-label="SECRET"' not in body
    [grant] = _grants(platform)
    assert grant.reason == REASON and grant.expires_at - grant.started_at == timedelta(hours=4)
    [entry] = [e for e in _audit(platform, "break_glass.take") if e.outcome == "allow"]
    assert entry.actor == USER and entry.case_id == case_id
    assert json.loads(entry.detail)["reason"] == REASON


def test_errors_re_render_and_store_nothing(client, platform) -> None:  # type: ignore[no-untyped-def]
    case_id, reference = _outside_case(platform)
    sign_in(client, platform, USER)
    r = _take(client, reference="", reason="   ", hours="")
    html = text(r)
    assert r.status_code == 400 and "govuk-error-summary" in html
    for message in ("Enter the case reference", "Write why you need", "Enter a number of hours"):
        assert message in html
    r = _take(client, reference=reference, reason="urgent", hours="72")
    html = text(r)
    assert r.status_code == 400 and "at least 10 characters" in html and "from 1 to 24" in html
    assert "urgent" in html  # what was typed is kept
    r = _take(client, reference=reference, hours="two")
    assert r.status_code == 400 and "Enter a number of hours from 1 to 24" in text(r)
    assert _grants(platform) == []

    # an unknown reference: the words a refusal gets, nothing stored, the attempt audited
    absent = _take(client, reference="SP-9999")
    assert absent.status_code == 400 and str(escape(REFUSED)) in text(absent)
    assert _grants(platform) == []
    [denied] = _audit(platform, "break_glass.take")
    assert denied.outcome == "deny" and denied.actor == USER and denied.object_id == "SP-9999"

    # the same bad reason gives the same errors whether or not the case exists
    def errors(ref: str) -> str:
        page = text(_take(client, reference=ref, reason="short"))
        start = page.index("govuk-error-summary")
        return page[start : page.index("</div>", start)].replace(ref, "REF")

    assert errors("SP-9999") == errors(reference)


def test_team_member_is_told_they_already_have_access(client, platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        c = ctx_for(platform, s, USER)
        mine = s.scalar(select(Case).where(Case.reference == MINE))
        assert mine is not None and relation(c.subject, case_ref(mine)).team
        ref, cid = mine.reference, str(mine.id)
    sign_in(client, platform, USER)
    r = _take(client, reference=ref)
    html = text(r)
    assert r.status_code == 400 and "already have access" in html
    assert f'href="/cases/{cid}"' in html
    assert _grants(platform) == []


def test_reviews_listed_for_the_units_manager_and_marked_reviewed(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    case_id, reference = _outside_case(platform)
    sign_in(client, platform, USER)
    assert _take(client, reference=reference).status_code == 302
    assert "Break-glass reviews" not in text(client.get("/cases"))
    assert client.get("/break-glass/reviews").status_code == 403
    [grant] = _grants(platform)

    manager = app.test_client()
    sign_in(manager, platform, "honsu.hughes")
    page = manager.get("/break-glass/reviews")
    html = text(page)
    assert page.status_code == 200 and 'href="/break-glass/reviews"' in html  # in the NAV
    row = html[html.index(f'id="grant-{grant.id}"') :]
    assert USER in row and reference in row and REASON.split(";")[0] in row
    url = f"/break-glass/reviews/{grant.id}"

    # another unit's HoNSU: not theirs to review, and not told it exists
    other = app.test_client()
    sign_in(other, platform, "honsu.lambert")
    assert f'id="grant-{grant.id}"' not in text(other.get("/break-glass/reviews"))
    assert (
        post_form(other, url, {}, page=text(other.get("/break-glass/reviews"))).status_code == 404
    )

    assert manager.post(url, data={}).status_code == 400  # no CSRF token
    assert _grants(platform)[0].reviewed_at is None
    done = manager.post(url, data={"csrf_token": csrf_of(html)})
    assert done.status_code == 302
    after = text(manager.get(done.headers["Location"]))
    assert "marked as reviewed" in after and f'id="grant-{grant.id}"' not in after
    [reviewed] = _grants(platform)
    assert reviewed.reviewed_at is not None
    assert [e.outcome for e in _audit(platform, "break_glass.review")].count("allow") == 1
