"""The MAPPA chairs' journey through the web forms (Flask test client over the demo data)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case
from shareplatform.mappa import models as m
from tests.factories import app_for
from tests.support.web import csrf_of, sign_in, text

TODAY = date.today()


def _d(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}-day": str(day.day),
        f"{prefix}-month": str(day.month),
        f"{prefix}-year": str(day.year),
    }


@pytest.fixture
def web(seeded):  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        ids = {u.username: str(u.id) for u in s.scalars(select(User))}
        case = str(s.scalar(select(Case.id).where(Case.reference == "SP-1001")))
    return seeded, app_for(seeded), ids, case


def _post(client, url: str, data: dict[str, object], page: str | None = None):  # type: ignore[no-untyped-def]
    html = page if page is not None else text(client.get(url))
    return client.post(url, data={"csrf_token": csrf_of(html), **data})


def _decisions(platform) -> int:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return s.scalar(select(func.count()).select_from(m.MappaDecision)) or 0


def test_chair_journey_breakout_visibility_and_correction(web) -> None:  # type: ignore[no-untyped-def]
    platform, app, ids, case = web
    base = _decisions(platform)  # the demo data's own decision log
    chair = app.test_client()
    sign_in(chair, platform, "honsu.hughes")
    assert chair.get(f"/cases/{case}/mappa").status_code == 200
    r = _post(
        chair,
        f"/cases/{case}/mappa/meetings/new",
        {
            "meeting_type": "REVEAL",
            **_d("held_on", TODAY),
            "chair_id": ids["honsu.hughes"],
            "co_chair_id": ids["lro.lewis"],
            f"attended_{ids['honsu.hughes']}": "y",
            f"closed_{ids['honsu.hughes']}": "y",
            f"attended_{ids['lro.lewis']}": "y",
            "open_minutes": "WEB-OPEN-PART",
            "closed_minutes": "WEB-CLOSED-PART",
        },
    )
    assert r.status_code == 302, text(r)[:3000]
    meeting_id = r.headers["Location"].rsplit("/", 1)[-1]
    r = _post(
        chair,
        f"/cases/{case}/mappa/disclosures/new",
        {
            "originator": "SECURITY_SERVICE",
            "originator_reference": "WEB-REF-1",
            "received_by_id": ids["honsu.hughes"],
            **_d("received_on", TODAY),
            "classification": "SECRET",
            "caveats": "ORCON",
            "summary": "WEB-SUMMARY",
        },
    )
    assert r.status_code == 302, text(r)[:3000]
    with platform.transaction() as s:
        disclosure_id = str(s.scalar(select(m.Disclosure.id)))
    form = {
        "step": "check",
        "meeting_id": meeting_id,
        "disclosures": disclosure_id,
        "decision": "WEB-DECISION",
        "rationale": "WEB-RATIONALE",
        "classification": "SECRET",
        "caveats": "ORCON",
        "action1_description": "WEB-ACTION-1-SECRET",
        "action1_owner": ids["com.cole"],
        **_d("action1_due", TODAY + timedelta(days=3)),
        "action1_breakout": "WEB-BREAKOUT-TEXT",
        "action1_breakout_label": "OFFICIAL-SENSITIVE",
        "action1_consent_from": "Security Service desk",
        **_d("action1_consent", TODAY),
        "action2_description": "WEB-ACTION-2",
        "action2_owner": ids["lro.lewis"],
        **_d("action2_due", TODAY + timedelta(days=9)),
    }
    url = f"/cases/{case}/mappa/decisions/new"
    bad = _post(chair, url, {**form, "rationale": " "})
    assert (
        bad.status_code == 400 and "govuk-error-summary" in text(bad) and "Rationale" in text(bad)
    )
    assert _decisions(platform) == base
    check = _post(chair, url, form)
    html = text(check)
    assert check.status_code == 200 and "Check the decision before you sign it" in html
    assert (
        "WEB-BREAKOUT-TEXT" in html
        and 'data-page-label="SECRET"' in html
        and _decisions(platform) == base
    )
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    hidden.pop("csrf_token")
    r = chair.post(
        url,
        data={
            "csrf_token": csrf_of(html),
            **hidden,
            "step": "record",
            "disclosures": disclosure_id,
            "caveats": "ORCON",
        },
    )
    assert r.status_code == 302, text(r)[:3000]
    decision_url = r.headers["Location"].split("?")[0]
    page = text(chair.get(decision_url))
    assert (
        "Signature verified" in page and "WEB-DECISION" in page and _decisions(platform) == base + 1
    )

    owner = app.test_client()
    sign_in(owner, platform, "com.cole")
    mine = text(owner.get("/mappa/actions"))
    assert (
        "WEB-BREAKOUT-TEXT" in mine
        and "WEB-ACTION-1-SECRET" not in mine
        and "WEB-DECISION" not in mine
    )
    action_url = re.search(r'href="(/mappa/actions/[0-9a-f-]{36})"', mine).group(1)  # type: ignore[union-attr]
    action_page = text(owner.get(action_url))
    assert "WEB-BREAKOUT-TEXT" in action_page and "WEB-ACTION-1" not in action_page
    assert 'data-page-label="OFFICIAL-SENSITIVE"' in action_page
    assert owner.get(decision_url).status_code == 404  # as a decision that does not exist

    pom = app.test_client()
    sign_in(pom, platform, "pom.parker")
    assert "WEB-BREAKOUT" not in text(pom.get("/mappa/actions"))
    assert pom.get(decision_url).status_code == 404
    assert pom.get(action_url).status_code == 404
    overview = text(pom.get(f"/cases/{case}/mappa"))
    assert "WEB-DECISION" not in overview and "WEB-REF-1" not in overview
    meeting_page = text(pom.get(f"/mappa/meetings/{meeting_id}"))
    assert "WEB-OPEN-PART" in meeting_page and "WEB-CLOSED-PART" not in meeting_page

    # the chair's print-ready minutes, capped at OFFICIAL-SENSITIVE, then at SECRET
    low = text(chair.get(f"/mappa/meetings/{meeting_id}/minutes.html?cap=OFFICIAL-SENSITIVE"))
    assert "WEB-OPEN-PART" in low and "WEB-CLOSED-PART" not in low and "WEB-DECISION" not in low
    high = text(chair.get(f"/mappa/meetings/{meeting_id}/minutes.html?cap=SECRET"))
    assert "WEB-CLOSED-PART" in high and "WEB-DECISION" in high
    assert chair.get(f"/mappa/meetings/{meeting_id}/minutes.csv?cap=SECRET").mimetype == "text/csv"

    # a correction supersedes; both stay readable to the chair
    correct_url = decision_url + "/correct"
    prefilled = text(chair.get(correct_url))
    assert "WEB-DECISION" in prefilled
    fix = {
        **form,
        "decision": "WEB-DECISION-CORRECTED",
        "reason": "Visit frequency was wrong",
        "action1_breakout": "",
        "action1_consent_from": "",
    }
    fix.pop("meeting_id")
    check = _post(chair, correct_url, fix, prefilled)
    html = text(check)
    assert check.status_code == 200, html[:3000]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    hidden.pop("csrf_token")
    r = chair.post(
        correct_url,
        data={
            "csrf_token": csrf_of(html),
            **hidden,
            "step": "record",
            "disclosures": disclosure_id,
            "caveats": "ORCON",
        },
    )
    assert r.status_code == 302, text(r)[:3000]
    assert "This decision has been corrected" in text(chair.get(decision_url))
    new_page = text(chair.get(r.headers["Location"]))
    assert "WEB-DECISION-CORRECTED" in new_page and "Visit frequency was wrong" in new_page
    assert _decisions(platform) == base + 2


def test_routes_refuse_non_corridor_users(web) -> None:  # type: ignore[no-untyped-def]
    platform, app, _ids, case = web
    client = app.test_client()
    sign_in(client, platform, "com.cole")
    # corridor pages answer as for an absent case (tests/security/test_withheld_crawl.py)
    assert client.get(f"/cases/{case}/mappa/disclosures/new").status_code == 404
    assert client.get(f"/cases/{case}/mappa/decisions/new").status_code == 404
    assert client.get(f"/cases/{case}/mappa/inspection.json").status_code == 404
