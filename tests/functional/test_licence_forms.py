"""Changing (a variation) and ending a licence condition from the lifecycle page, through the web:
bad input answers with the error summary, keeps what was typed and stores nothing; good input
stores a new version with its reason, the old one kept in the history; a reader who may not
write is refused as on the other lifecycle forms; an outsider and an unknown id get the same 404.
On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from shareplatform.cases.models import Case
from shareplatform.lifecycle import licence
from shareplatform.lifecycle.release_models import LicenceCondition
from tests.factories import ctx_for
from tests.security.test_withheld_crawl import normalised
from tests.support.factories import PASSWORD, case, user
from tests.support.web import post_form, sign_in, text

START = date.today() - timedelta(days=20)


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    """One North case: a COM on its team, a MAPPA administrator on its panel (reads the plan,
    may not write it), and a COM in another unit with no relation to it."""
    people = (
        ("com.cole", "COM", "SC", "North"),
        ("mappa.morgan", "MAPPA_ADMIN", "BPSS", "North"),
        ("honsu.hughes", "HONSU", "SC", "North"),
    )
    with platform.transaction() as s:
        cole, admin, honsu, _ = (
            user(platform, s, name, role=role, vetting=vet, nsd_unit=unit, password=PASSWORD)
            for name, role, vet, unit in (*people, ("com.far", "COM", "SC", "London"))
        )
        made = case(
            platform,
            s,
            "LC-1001",
            team=[(cole, "COM")],
            panel=[(admin, "MAPPA_ADMIN"), (honsu, "HONSU")],
        )
        s.flush()
        licence.record_condition(
            ctx_for(platform, s, "com.cole"),
            made.id,
            licence.NewCondition("EM_GPS_TRAIL", START, START + timedelta(days=180), "Zone: Leeds"),
        )
    return platform


def _ids(platform) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        case_id = s.scalar(select(Case.id).where(Case.reference == "LC-1001"))
        cid = s.scalar(select(LicenceCondition.id).where(LicenceCondition.case_id == case_id))
        return str(case_id), str(cid)


def _count(platform) -> int:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return s.scalar(select(func.count()).select_from(LicenceCondition)) or 0


def _plain(response, value: object) -> str:  # type: ignore[no-untyped-def]
    """The body with the asked id and per-request values (CSRF token, nonce) taken out."""
    return normalised(text(response), str(value))


def _day(name: str, day: date) -> dict[str, str]:
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def test_change_a_condition(client, app_platform) -> None:  # type: ignore[no-untyped-def]
    case_id, cid = _ids(app_platform)
    sign_in(client, app_platform, "com.cole", PASSWORD)
    page = text(client.get(f"/cases/{case_id}/lifecycle"))
    url = f"/cases/{case_id}/lifecycle/licence-conditions/{cid}/change"
    assert url in page and f"/licence-conditions/{cid}/end" in page
    form = text(client.get(url))
    assert "Change a licence condition" in form and "Zone: Leeds" in form
    assert 'name="starts_on-day" type="text"' in form or 'name="starts_on-day"' in form
    typed = {
        "condition_type": "EM_GPS_TRAIL",
        **_day("starts_on", START),
        **_day("ends_on", START + timedelta(days=400)),
        "details": "Zone: Leeds and Bradford",
    }
    r = post_form(client, url, typed, form)  # no reason
    body = text(r)
    assert r.status_code == 400 and "govuk-error-summary" in body and 'href="#reason"' in body
    assert "Zone: Leeds and Bradford" in body  # kept what was typed
    r = post_form(client, url, {**typed, "ends_on-month": "13", "reason": "Board"}, form)
    assert r.status_code == 400 and 'href="#ends_on-day"' in text(r)
    assert _count(app_platform) == 1  # nothing half-written
    r = post_form(client, url, {**typed, "reason": "Varied by the parole board"}, form)
    assert r.status_code == 302, text(r)[:2000]
    assert _count(app_platform) == 2
    page = text(client.get(f"/cases/{case_id}/lifecycle"))
    assert "Zone: Leeds and Bradford" in page and "Earlier versions (1)" in page
    assert "Varied by the parole board" in page
    # the old version can no longer be changed: it is not current
    r = post_form(client, url, {**typed, "details": "Again", "reason": "Again"})
    assert r.status_code == 409 and _count(app_platform) == 2


def test_end_a_condition(client, app_platform) -> None:  # type: ignore[no-untyped-def]
    case_id, cid = _ids(app_platform)
    sign_in(client, app_platform, "com.cole", PASSWORD)
    url = f"/cases/{case_id}/lifecycle/licence-conditions/{cid}/end"
    form = text(client.get(url))
    assert "End a licence condition" in form
    r = post_form(client, url, {"reason": "Removed by the board"}, form)
    body = text(r)
    assert r.status_code == 400 and 'href="#ends_on-day"' in body
    assert "Removed by the board" in body
    ends = START + timedelta(days=30)
    r = post_form(client, url, _day("ends_on", ends), form)
    assert r.status_code == 400 and 'href="#reason"' in text(r)
    assert _count(app_platform) == 1
    r = post_form(client, url, {**_day("ends_on", ends), "reason": "Removed by the board"}, form)
    assert r.status_code == 302, text(r)[:2000]
    page = text(client.get(f"/cases/{case_id}/lifecycle"))
    assert "Ended" in page and "Removed by the board" in page
    assert f"{ends.day} {ends.strftime('%B %Y')}" in page


def test_a_reader_who_may_not_write_is_refused(client, app_platform) -> None:  # type: ignore[no-untyped-def]
    case_id, cid = _ids(app_platform)
    sign_in(client, app_platform, "mappa.morgan", PASSWORD)
    page = text(client.get(f"/cases/{case_id}/lifecycle"))
    assert "Zone: Leeds" in page and "/change" not in page and "End condition" not in page
    base = f"/cases/{case_id}/lifecycle/licence-conditions"
    assert client.get(f"{base}/new").status_code == 403  # as the existing add form
    for action in ("change", "end"):
        assert client.get(f"{base}/{cid}/{action}").status_code == 403
        r = post_form(
            client,
            f"{base}/{cid}/{action}",
            {**_day("ends_on", START), "reason": "No"},
            page,
        )
        assert r.status_code == 403
    assert _count(app_platform) == 1


def test_an_outsider_and_an_unknown_id_answer_alike(client, app_platform) -> None:  # type: ignore[no-untyped-def]
    case_id, cid = _ids(app_platform)
    with app_platform.transaction() as s:  # a SECRET condition written in the corridor
        secret = licence.record_condition(
            ctx_for(app_platform, s, "honsu.hughes"),
            uuid.UUID(case_id),
            licence.NewCondition("CURFEW", START, None, "Corridor only", "SECRET"),
        ).id
    sign_in(client, app_platform, "com.cole", PASSWORD)
    base = f"/cases/{case_id}/lifecycle/licence-conditions"
    for action in ("change", "end"):
        unknown, withheld = (uuid.uuid4(), secret)
        answers = [client.get(f"{base}/{x}/{action}") for x in (unknown, withheld)]
        assert [a.status_code for a in answers] == [404, 404]
        bodies = [_plain(a, x) for a, x in zip(answers, (unknown, withheld), strict=True)]
        assert bodies[0] == bodies[1]
    client.post("/sign-out", data={})
    other = client.application.test_client()
    sign_in(other, app_platform, "com.far", PASSWORD)
    r = other.get(f"/cases/{case_id}/lifecycle/licence-conditions/{cid}/change")
    assert r.status_code == 404


def test_a_tampered_condition_is_shown_withheld(client, app_platform) -> None:  # type: ignore[no-untyped-def]
    case_id, cid = _ids(app_platform)
    with app_platform.transaction() as s:
        s.execute(
            update(LicenceCondition)
            .where(LicenceCondition.id == uuid.UUID(cid))
            .values(ends_on=START + timedelta(days=500))
            .execution_options(synchronize_session=False)
        )
    sign_in(client, app_platform, "com.cole", PASSWORD)
    page = text(client.get(f"/cases/{case_id}/lifecycle"))
    assert 'data-integrity-failure="true"' in page and "failed its integrity check" in page
    assert "Zone: Leeds" not in page and f"licence-conditions/{cid}/change" not in page
