"""Practitioners never lose writing (shareplatform/records/writing.py): a form posted after the
session ended is kept for its author alone and restored after signing in again; drafts are saved
(without JavaScript too) and deleted when the note is posted; a body over the limit re-renders
intact with the character count; a form posts once however often it is sent; every field error
at once, in plain English. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from shareplatform.accounts.models import UserSession
from shareplatform.db import utcnow
from shareplatform.operations.housekeeping import Retention, sweep
from shareplatform.records import views as record_views
from shareplatform.records.models import FormSubmission, KeptForm, Record, RecordDraft
from tests.support.factories import PASSWORD, case, user
from tests.support.web import csrf_of, sign_in, text

SECRET_TEXT = "Disclosed a new address in Leeds; curfew discussed at length."


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    """One North case with two COMs on its team: the author, and a colleague."""
    with platform.transaction() as s:
        cole = user(platform, s, "com.cole", role="COM", nsd_unit="North", password=PASSWORD)
        other = user(platform, s, "com.other", role="COM", nsd_unit="North", password=PASSWORD)
        case(platform, s, "PW-1001", team=[(cole, "COM"), (other, "COM")])
    return platform


def _case_id(platform) -> str:  # type: ignore[no-untyped-def]
    from shareplatform.cases.models import Case

    with platform.transaction() as s:
        return str(s.scalar(select(Case.id).where(Case.reference == "PW-1001")))


def _note(**overrides: object) -> dict[str, object]:
    day = date.today() - timedelta(days=1)
    data: dict[str, object] = {
        "record_type": "CONTACT_OFFICE",
        "occurred_on": [str(day.day), str(day.month), str(day.year)],
        "joint_agency": "",
        "classification": "OFFICIAL-SENSITIVE",
        "title": "Office visit",
        "body": SECRET_TEXT,
    }
    data.update(overrides)
    return data


def _count(platform, model) -> int:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _form(client, url: str) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    page = text(client.get(url))
    token = re.search(r'name="submission" type="hidden" value="([^"]*)"', page)
    return page, {"csrf_token": csrf_of(page), "submission": token.group(1) if token else ""}


def _end_session(platform, username: str) -> None:  # type: ignore[no-untyped-def]
    """The idle timeout passes: the session's last activity is an hour ago."""
    from shareplatform.accounts.models import User

    with platform.transaction() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        s.execute(
            update(UserSession)
            .where(UserSession.user_id == uid)
            .values(last_seen_at=utcnow() - timedelta(hours=1))
        )


# -- 2. a form posted after the session ended ----------------------------------------------------
def test_a_form_posted_after_the_session_ended_is_kept_and_restored(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    cid = _case_id(platform)
    url = f"/cases/{cid}/records/new"
    _, hidden = _form(client, url)
    _end_session(platform, "com.cole")
    r = client.post(url, data={**hidden, **_note()})
    assert r.status_code == 302 and "/sign-in" in r.headers["Location"]
    assert "restore%3D" in r.headers["Location"] and "reason=idle" in r.headers["Location"]
    assert _count(platform, Record) == 0 and _count(platform, KeptForm) == 1
    with platform.transaction() as s:
        kept = s.scalars(select(KeptForm)).one()
        assert kept.classification == "OFFICIAL-SENSITIVE"
        assert SECRET_TEXT.encode() not in kept.content_ct  # sealed, not stored as typed

    # a colleague signing in on the same browser, sent to the same address, sees a blank form
    target = re.search(r"next=([^&]+)", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    from urllib.parse import unquote

    target = unquote(target)
    colleague = app.test_client()
    sign_in(colleague, platform, "com.other")
    assert SECRET_TEXT not in text(colleague.get(target))

    # the author signs in again and lands on the form, text restored
    page = text(sign_in_to(client, platform, "com.cole", r.headers["Location"], target))
    assert SECRET_TEXT in page and "You were signed out before this form was sent" in page
    _, hidden = _form(client, target)
    kept_id = re.search(r"restore=([0-9a-f-]{36})", target).group(1)  # type: ignore[union-attr]
    r = client.post(url, data={**hidden, **_note(), "kept": kept_id})
    assert r.status_code == 302 and _count(platform, Record) == 1
    assert _count(platform, KeptForm) == 0  # deleted once posted


def test_an_autosave_after_the_session_ended_does_not_lose_the_form(client, platform) -> None:  # type: ignore[no-untyped-def]
    """The page's autosave may reach the server after the session ended and before the page's
    countdown posts the form: the form is still kept (the ended session's cookie stays)."""
    sign_in(client, platform, "com.cole")
    cid = _case_id(platform)
    url = f"/cases/{cid}/records/new"
    _, hidden = _form(client, url)
    _end_session(platform, "com.cole")
    for _ in range(2):  # the first ends the session, the second finds it ended
        r = client.post(f"/cases/{cid}/records/draft", data={**hidden, **_note()})
        assert r.status_code == 302 and "/sign-in" in r.headers["Location"]
    r = client.post(url, data={**hidden, **_note(), "action": "draft"})
    assert "restore%3D" in r.headers["Location"], r.headers["Location"]
    assert _count(platform, KeptForm) == 1 and _count(platform, Record) == 0


def sign_in_to(client, platform, username: str, sign_in_url: str, target: str):  # type: ignore[no-untyped-def]
    """Sign in on the page a timed-out post was sent to, and follow to `target`."""
    from tests.support.web import fresh_code, post_form

    r = post_form(client, sign_in_url, {"username": username, "password": PASSWORD})
    r = post_form(client, r.headers["Location"], {"code": fresh_code(platform, username)})
    assert r.headers["Location"] == target, r.headers["Location"]
    return client.get(target)


def test_a_correction_posted_after_the_timeout_is_kept_without_opening_the_record(
    client, platform
) -> None:  # type: ignore[no-untyped-def]
    """The correction form is kept like a new note's; keeping it opens nothing (no read is
    audited in the author's name without a live session)."""
    from shareplatform.audit.models import AuditEntry

    sign_in(client, platform, "com.cole")
    url = f"/cases/{_case_id(platform)}/records/new"
    _, hidden = _form(client, url)
    r = client.post(url, data={**hidden, **_note()})
    assert r.status_code == 302 and _count(platform, Record) == 1
    with platform.transaction() as s:
        record_id = s.scalar(select(Record.id))
    correct = f"/records/{record_id}/correct"
    _, hidden = _form(client, correct)
    _end_session(platform, "com.cole")
    with platform.transaction() as s:
        reads_before = s.scalar(select(func.count()).where(AuditEntry.action == "record.read"))
    r = client.post(correct, data={**hidden, **_note(), "reason": "Wrong date"})
    assert "restore%3D" in r.headers["Location"], r.headers["Location"]
    assert _count(platform, KeptForm) == 1 and _count(platform, Record) == 1
    with platform.transaction() as s:
        reads_after = s.scalar(select(func.count()).where(AuditEntry.action == "record.read"))
    assert reads_after == reads_before


def test_a_refused_downgrade_comes_back_with_what_was_typed(client, app, platform) -> None:  # type: ignore[no-untyped-def]
    """A colleague's correction at a lower label is refused (only the originator downgrades):
    the form comes back with their text and the reason, the refusal audited, nothing written."""
    from shareplatform.audit.models import AuditEntry

    sign_in(client, platform, "com.cole")
    url = f"/cases/{_case_id(platform)}/records/new"
    _, hidden = _form(client, url)
    client.post(url, data={**hidden, **_note()})
    with platform.transaction() as s:
        record_id = s.scalar(select(Record.id))
    colleague = app.test_client()
    sign_in(colleague, platform, "com.other")
    correct = f"/records/{record_id}/correct"
    _, hidden = _form(colleague, correct)
    typed = "A long correction the colleague typed and must not lose."
    data = {**hidden, **_note(body=typed, classification="OFFICIAL"), "reason": "Over-marked"}
    r = colleague.post(correct, data=data)
    page = text(r)
    assert r.status_code == 400 and "govuk-error-summary" in page
    assert typed in page and "Only the originator" in page
    assert _count(platform, Record) == 1
    with platform.transaction() as s:
        refused = s.scalar(select(AuditEntry).where(AuditEntry.action == "record.downgrade"))
        assert refused is not None and refused.outcome == "deny"


def test_a_form_posted_after_signing_out_is_not_kept(client, platform) -> None:  # type: ignore[no-untyped-def]
    """Only a timeout keeps a form: after signing out, whoever still holds the cookie and the
    page's CSRF token (a copied cookie) writes nothing in the author's name."""
    from shareplatform.web.shell import SESSION_COOKIE

    sign_in(client, platform, "com.cole")
    url = f"/cases/{_case_id(platform)}/records/new"
    _, hidden = _form(client, url)
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    r = client.post("/sign-out", data={"csrf_token": hidden["csrf_token"]})
    assert r.status_code == 302
    client.set_cookie(SESSION_COOKIE, cookie.value)  # the copied cookie, sent again
    r = client.post(url, data={**hidden, **_note()})
    assert r.status_code == 302 and "restore" not in r.headers["Location"]
    assert _count(platform, KeptForm) == 0 and _count(platform, Record) == 0


def test_a_post_without_a_valid_csrf_token_is_not_kept(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    url = f"/cases/{_case_id(platform)}/records/new"
    _form(client, url)
    _end_session(platform, "com.cole")
    r = client.post(url, data={"csrf_token": "forged", **_note()})
    assert r.status_code == 302 and "restore" not in r.headers["Location"]
    assert _count(platform, KeptForm) == 0


def test_housekeeping_deletes_expired_kept_forms(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    url = f"/cases/{_case_id(platform)}/records/new"
    _, hidden = _form(client, url)
    _end_session(platform, "com.cole")
    client.post(url, data={**hidden, **_note()})
    assert _count(platform, KeptForm) == 1
    with platform.transaction() as s:
        swept = sweep(s, utcnow(), Retention(), session_absolute_hours=10, lockout_minutes=15)
    assert swept.kept_forms == 0  # not yet expired
    with platform.transaction() as s:
        swept = sweep(
            s,
            utcnow() + timedelta(hours=3),
            Retention(),
            session_absolute_hours=10,
            lockout_minutes=15,
        )
    assert swept.kept_forms == 1 and _count(platform, KeptForm) == 0


# -- keep-alive ------------------------------------------------------------------------------------
def test_stay_signed_in_refreshes_the_session(client, platform) -> None:  # type: ignore[no-untyped-def]
    page = text(sign_in(client, platform, "com.cole"))
    assert 'data-module="app-timeout-warning"' in page and "js/timeout-warning.js" in page
    with platform.transaction() as s:
        s.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=10)))
    r = client.post("/session/keep-alive", headers={"X-CSRFToken": csrf_of(page)})
    assert r.status_code == 200 and r.get_json()["idle_seconds"] == 15 * 60
    with platform.transaction() as s:
        seen = max(s.scalars(select(UserSession.last_seen_at)))
    assert utcnow() - seen < timedelta(minutes=1)
    assert client.post("/session/keep-alive").status_code == 400  # no CSRF token


# -- 3. drafts -----------------------------------------------------------------------------------
def test_drafts_save_without_js_show_to_the_author_only_and_go_when_posted(
    client, app, platform
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    cid = _case_id(platform)
    url = f"/cases/{cid}/records/new"
    _, hidden = _form(client, url)
    r = client.post(url, data={**hidden, **_note(record_type=""), "action": "draft"})
    assert r.status_code == 302 and "draft=saved" in r.headers["Location"]
    assert _count(platform, Record) == 0 and _count(platform, RecordDraft) == 1
    page = text(client.get(url))
    assert SECRET_TEXT in page and "Your saved draft" in page

    colleague = app.test_client()
    sign_in(colleague, platform, "com.other")
    assert SECRET_TEXT not in text(colleague.get(url))

    # the autosave endpoint replaces the draft (one per author and case)
    page, hidden = _form(client, url)
    r = client.post(f"/cases/{cid}/records/draft", data={**hidden, **_note(body="Second go")})
    assert r.status_code == 200 and r.get_json()["saved"] is True
    assert _count(platform, RecordDraft) == 1 and "Second go" in text(client.get(url))

    _, hidden = _form(client, url)
    assert client.post(url, data={**hidden, **_note()}).status_code == 302
    assert _count(platform, RecordDraft) == 0


# -- 4. over the limit ---------------------------------------------------------------------------
def test_a_body_over_the_limit_rerenders_intact_with_the_character_count(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    url = f"/cases/{_case_id(platform)}/records/new"
    page, hidden = _form(client, url)
    assert 'data-module="govuk-character-count"' in page and 'data-maxlength="20000"' in page
    long_body = "word " * 4001 + "END-OF-TEXT"
    r = client.post(url, data={**hidden, **_note(body=long_body)})
    assert r.status_code == 400
    html = text(r)
    assert "Details must be 20,000 characters or fewer" in html
    assert "END-OF-TEXT" in html and html.count("word ") >= 4001
    assert _count(platform, Record) == 0


# -- 5. one post per rendered form ---------------------------------------------------------------
def test_a_second_post_of_the_same_form_lands_on_the_first_record(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    url = f"/cases/{_case_id(platform)}/records/new"
    _, hidden = _form(client, url)
    first = client.post(url, data={**hidden, **_note()})
    second = client.post(url, data={**hidden, **_note()})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(platform, Record) == 1 and _count(platform, FormSubmission) == 1
    _, fresh = _form(client, url)
    assert fresh["submission"] != hidden["submission"]  # a new rendering, a new token


# -- 6. every error at once, in plain English ------------------------------------------------------
def test_every_field_error_at_once_in_plain_english(client, platform) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    url = f"/cases/{_case_id(platform)}/records/new"
    page, hidden = _form(client, url)
    assert '<option value="" selected>Select the type of record</option>' in page
    for custody in ("Prison keywork session", "POM session", "Legal visit", "Adjudication"):
        assert custody in page
    empty = {
        "record_type": "",
        "occurred_on": ["", "", ""],
        "classification": "",
        "title": "",
        "body": "",
    }
    r = client.post(url, data={**hidden, **empty})
    html = text(r)
    assert r.status_code == 400 and "<title>Error: " in html
    summary = re.search(r"govuk-error-summary__list.*?</ul>", html, re.S).group(0)  # type: ignore[union-attr]
    for message in (
        "Select the type of record",
        "Enter the date of the contact",
        "Select a classification",
        "Enter a short title",
        "Enter the details",
    ):
        assert message in summary, message
    assert "allowed:" not in html and "Invalid" not in summary


def test_dates_are_bounded_by_what_is_possible(client, platform, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, platform, "com.cole")
    url = f"/cases/{_case_id(platform)}/records/new"
    tomorrow = date.today() + timedelta(days=1)
    _, hidden = _form(client, url)
    r = client.post(
        url,
        data={
            **hidden,
            **_note(occurred_on=[str(tomorrow.day), str(tomorrow.month), str(tomorrow.year)]),
        },
    )
    assert "The date of the contact must be today or in the past" in text(r)
    monkeypatch.setattr(record_views, "_born_on", lambda c, case: date(1990, 5, 1))
    r = client.post(url, data={**hidden, **_note(occurred_on=["1", "1", "1980"])})
    assert "must be on or after the person&#39;s date of birth" in text(r)
    r = client.post(url, data={**hidden, **_note(occurred_on=["31", "2", ""])})
    assert "The date of the contact must include a year" in text(r)
    assert _count(platform, Record) == 0
