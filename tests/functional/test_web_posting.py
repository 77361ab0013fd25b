"""Posting notes and joint visits, the label chooser, validation without half-writes, correcting."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from shareplatform.records.models import Record, RecordAttendee
from tests.functional.test_web_pages import case_id
from tests.support.web import csrf_of, sign_in, text


def _count(seeded) -> int:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        return s.scalar(select(func.count()).select_from(Record)) or 0


def _note(**overrides: object) -> dict[str, object]:
    day = date.today() - timedelta(days=1)
    data: dict[str, object] = {
        "record_type": "CONTACT_OFFICE",
        "occurred_on": [str(day.day), str(day.month), str(day.year)],
        "joint_agency": "",
        "classification": "OFFICIAL-SENSITIVE",
        "title": "Office visit after release",
        "body": "Discussed hostel rules and the curfew. No concerns.",
    }
    data.update(overrides)
    return data


def _post(client, url: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    form = client.get(url)
    assert form.status_code == 200, text(form)[:500]
    return client.post(url, data={"csrf_token": csrf_of(text(form)), **data})


def test_post_a_note_and_see_it_on_the_case(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    cid = case_id(seeded, "SP-1001")
    form = text(client.get(f"/cases/{cid}/records/new"))
    assert 'value="OFFICIAL-SENSITIVE" checked' in form  # the default label
    r = _post(client, f"/cases/{cid}/records/new", _note())
    assert r.status_code == 302
    html = text(client.get(r.headers["Location"].split("#")[0]))
    assert "Record saved" in html and "Office visit after release" in html
    rid = re.search(r"saved=([0-9a-f-]{36})", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    tag = re.search(rf'<article[^>]*id="record-{rid}"[^>]*>', html).group(0)  # type: ignore[union-attr]
    assert 'data-label="OFFICIAL-SENSITIVE"' in tag


def test_a_joint_visit_is_one_record_the_other_agency_sees(client, app, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    cid = case_id(seeded, "SP-1005")  # community: visits happen there
    before = _count(seeded)
    r = _post(
        client,
        f"/cases/{cid}/records/new",
        _note(
            record_type="CONTACT_JOINT_VISIT",
            joint_agency="CTNM",
            title="Joint home visit with DC Nash",
        ),
    )
    assert r.status_code == 302 and _count(seeded) == before + 1
    police = app.test_client()
    sign_in(police, seeded, "nm.nash")
    html = text(police.get(f"/cases/{cid}"))
    assert "Joint home visit with DC Nash" in html
    with seeded.transaction() as s:
        rid = s.scalar(select(Record.id).order_by(Record.created_at.desc()).limit(1))
        agencies = sorted(
            s.scalars(select(RecordAttendee.agency).where(RecordAttendee.record_id == rid))
        )
    assert agencies == ["CTNM", "NSD"]


def test_errors_rerender_with_summary_keep_input_and_store_nothing(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    cid = case_id(seeded, "SP-1001")
    before = _count(seeded)
    r = _post(
        client,
        f"/cases/{cid}/records/new",
        _note(title="", occurred_on=["", "", ""], body="Typed text kept <b>safely</b>"),
    )
    html = text(r)
    assert r.status_code == 400
    assert (
        "govuk-error-summary" in html and "Enter a short title" in html and "Enter the date" in html
    )
    assert "Typed text kept &lt;b&gt;safely&lt;/b&gt;" in html
    assert html.startswith("<!DOCTYPE html>") and "<title>Error:" in html
    # a joint visit without the other agency: the service refuses, mapped to the field (on a
    # community case: in custody a visit is refused before that)
    community = case_id(seeded, "SP-1005")
    r = _post(client, f"/cases/{community}/records/new", _note(record_type="CONTACT_JOINT_VISIT"))
    assert r.status_code == 400
    assert "Select the other agency that attended the joint visit" in text(r)
    # a future date: the domain rule, as a field error
    future = date.today() + timedelta(days=3)
    r = _post(
        client,
        f"/cases/{cid}/records/new",
        _note(occurred_on=[str(future.day), str(future.month), str(future.year)]),
    )
    assert r.status_code == 400 and "must be today or in the past" in text(r)
    r = _post(client, f"/cases/{cid}/records/new", _note(occurred_on=["31", "2", "2024"]))
    assert r.status_code == 400 and "real date" in text(r)
    assert _count(seeded) == before


def test_label_chooser_offers_only_what_the_user_may_write(client, app, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")  # SC vetted but frontline: no SECRET
    cid = case_id(seeded, "SP-1001")
    form = text(client.get(f"/cases/{cid}/records/new"))
    assert 'value="OFFICIAL"' in form and 'value="SECRET"' not in form
    before = _count(seeded)
    r = _post(client, f"/cases/{cid}/records/new", _note(classification="SECRET"))
    assert r.status_code == 400 and _count(seeded) == before
    honsu = app.test_client()
    sign_in(honsu, seeded, "honsu.hughes")
    assert 'value="SECRET"' in text(honsu.get(f"/cases/{cid}/records/new"))


def test_posting_on_a_case_not_mine_is_404(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "pom.quinn")
    assert client.get(f"/cases/{case_id(seeded, 'SP-1001')}/records/new").status_code == 404


def test_a_correction_supersedes_with_a_reason(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    cid = case_id(seeded, "SP-1001")
    r = _post(
        client, f"/cases/{cid}/records/new", _note(title="Phone call", body="Spoke on the 3rd.")
    )
    rid = re.search(r"saved=([0-9a-f-]{36})", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    page = text(client.get(f"/records/{rid}"))
    assert "Correct this record" in page
    form = text(client.get(f"/records/{rid}/correct"))
    assert "Spoke on the 3rd." in form  # prefilled
    r = _post(
        client,
        f"/records/{rid}/correct",
        _note(title="Phone call", body="Spoke on the 4th.", reason=""),
    )
    assert r.status_code == 400 and "Say why the record is being corrected" in text(r)
    r = _post(
        client,
        f"/records/{rid}/correct",
        _note(title="Phone call", body="Spoke on the 4th.", reason="Wrong date in the note"),
    )
    assert r.status_code == 302
    new = text(client.get(r.headers["Location"]))
    assert (
        "Spoke on the 4th." in new
        and "Spoke on the 3rd." in new
        and "Wrong date in the note" in new
    )
    old = text(client.get(f"/records/{rid}"))
    assert "This version has been corrected" in old and "Correct this record" not in old
    assert client.post(f"/records/{rid}/correct", data={}).status_code == 400  # CSRF first
