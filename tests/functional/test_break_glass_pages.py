"""Emergency access pages: take it by case reference (reason and hours validated, nothing stored
on error, no hint whether a case exists), then the case opens at OFFICIAL-SENSITIVE; the
case's HoNSU sees the use listed and marks it reviewed (CSRF-protected); others cannot."""

from __future__ import annotations

import json
from datetime import timedelta

from markupsafe import escape
from sqlalchemy import select

from shareplatform.access.facts import relation
from shareplatform.audit.models import AuditEntry
from shareplatform.break_glass.models import BreakGlass
from shareplatform.cases.models import Case
from shareplatform.cases.services import case_ref
from shareplatform.views.break_glass import REFUSED
from tests.factories import app_for, ctx_for
from tests.support.web import csrf_of, post_form, sign_in, text

REASON = "Nominal reported missing overnight; the duty officer needs the risk plan now."
USER = "pom.quinn"


def _outside_case(seeded) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A North case (reviewed by honsu.hughes) that pom.quinn cannot open: (id, reference)."""
    with seeded.transaction() as s:
        c = ctx_for(seeded, s, USER)
        for case in s.scalars(
            select(Case).where(Case.nsd_unit == "North").order_by(Case.reference)
        ):
            rel = relation(c.subject, case_ref(case))
            if not (rel.need_to_know or rel.break_glass):
                return str(case.id), case.reference
    raise AssertionError("every North case has pom.quinn on it")


def _grants(seeded) -> list[BreakGlass]:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        rows = list(s.scalars(select(BreakGlass)))
        s.expunge_all()
        return rows


def _audit(seeded, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        s.expunge_all()
        return rows


def _take(client, **data: object):  # type: ignore[no-untyped-def]
    return post_form(client, "/emergency-access", {"reason": REASON, "hours": "4", **data})


def test_emergency_access_opens_the_case_at_official_sensitive(client, seeded) -> None:  # type: ignore[no-untyped-def]
    case_id, reference = _outside_case(seeded)
    sign_in(client, seeded, USER)
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
    assert page.status_code == 200 and reference in body
    assert "SECRET-ONLY-TEXT-" not in body and 'data-label="SECRET"' not in body
    [grant] = _grants(seeded)
    assert grant.reason == REASON and grant.expires_at - grant.started_at == timedelta(hours=4)
    [entry] = [e for e in _audit(seeded, "break_glass.take") if e.outcome == "allow"]
    assert entry.actor == USER and entry.case_id == case_id
    assert json.loads(entry.detail)["reason"] == REASON


def test_errors_re_render_and_store_nothing(client, seeded) -> None:  # type: ignore[no-untyped-def]
    case_id, reference = _outside_case(seeded)
    sign_in(client, seeded, USER)
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
    assert _grants(seeded) == []

    # an unknown reference: the words a refusal gets, nothing stored, the attempt audited
    absent = _take(client, reference="SP-9999")
    assert absent.status_code == 400 and str(escape(REFUSED)) in text(absent)
    assert _grants(seeded) == []
    [denied] = _audit(seeded, "break_glass.take")
    assert denied.outcome == "deny" and denied.actor == USER and denied.object_id == "SP-9999"

    # the same bad reason gives the same errors whether or not the case exists
    def errors(ref: str) -> str:
        page = text(_take(client, reference=ref, reason="short"))
        start = page.index("govuk-error-summary")
        return page[start : page.index("</div>", start)].replace(ref, "REF")

    assert errors("SP-9999") == errors(reference)


def test_team_member_is_told_they_already_have_access(client, seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        c = ctx_for(seeded, s, USER)
        mine = next(
            case
            for case in s.scalars(select(Case).order_by(Case.reference))
            if relation(c.subject, case_ref(case)).team
        )
        ref, cid = mine.reference, str(mine.id)
    sign_in(client, seeded, USER)
    r = _take(client, reference=ref)
    html = text(r)
    assert r.status_code == 400 and "already have access" in html
    assert f'href="/cases/{cid}"' in html
    assert _grants(seeded) == []


def test_reviews_listed_for_the_units_manager_and_marked_reviewed(client, seeded) -> None:  # type: ignore[no-untyped-def]
    case_id, reference = _outside_case(seeded)
    sign_in(client, seeded, USER)
    assert _take(client, reference=reference).status_code == 302
    assert "Break-glass reviews" not in text(client.get("/cases"))
    assert client.get("/break-glass/reviews").status_code == 403
    [grant] = _grants(seeded)

    manager = app_for(seeded).test_client()
    sign_in(manager, seeded, "honsu.hughes")
    page = manager.get("/break-glass/reviews")
    html = text(page)
    assert page.status_code == 200 and 'href="/break-glass/reviews"' in html  # in the NAV
    row = html[html.index(f'id="grant-{grant.id}"') :]
    assert USER in row and reference in row and REASON.split(";")[0] in row
    url = f"/break-glass/reviews/{grant.id}"

    # another unit's HoNSU: not theirs to review, and not told it exists
    other = app_for(seeded).test_client()
    sign_in(other, seeded, "honsu.lambert")
    assert f'id="grant-{grant.id}"' not in text(other.get("/break-glass/reviews"))
    assert (
        post_form(other, url, {}, page=text(other.get("/break-glass/reviews"))).status_code == 404
    )

    assert manager.post(url, data={}).status_code == 400  # no CSRF token
    assert _grants(seeded)[0].reviewed_at is None
    done = manager.post(url, data={"csrf_token": csrf_of(html)})
    assert done.status_code == 302
    after = text(manager.get(done.headers["Location"]))
    assert "marked as reviewed" in after and f'id="grant-{grant.id}"' not in after
    [reviewed] = _grants(seeded)
    assert reviewed.reviewed_at is not None
    assert [e.outcome for e in _audit(seeded, "break_glass.review")].count("allow") == 1
