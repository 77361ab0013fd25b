"""A keyworker's contact log is their own (docs/domain.md, "Role nuances": keyworkers see plan
objectives, risk flags and their contact log only): on a case they are on, they read the contacts
they wrote and no other practitioner's, whichever face asks. Compared with the independent oracle
(tests/security/oracle.py, `by_reader`) for the keyworker and for the team members around them:
the timeline (the query filter by authorship class), the access layer's decision, the record page
and the API's route check."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.access.vocabulary import Act
from shareplatform.accounts import tokens
from shareplatform.accounts.models import User
from shareplatform.cases.models import Case
from shareplatform.domain.errors import NotFound, NotPermitted
from shareplatform.records.models import Record
from shareplatform.records.services import Notice, RecordView, record_facts, record_page, timeline
from tests.factories import app_for, ctx_for
from tests.security import builders, oracle

READERS = {"kw.one": "KEYWORKER", "kw.two": "KEYWORKER", "kw.pom": "POM", "kw.com": "COM"}
TYPES = (
    "CONTACT_OFFICE",
    "CONTACT_HOME_VISIT",
    "CONTACT_JOINT_VISIT",
    "CONTACT_PHONE",
    "ASSESSMENT_ERG",
    "PLAN_SENTENCE",
)
LABELS = ("OFFICIAL", "OFFICIAL-SENSITIVE")


@dataclass(frozen=True)
class Written:
    id: uuid.UUID
    author: str
    record_type: str
    label: str
    occurred_on: date


@pytest.fixture(scope="module")
def contacts(module_platform):  # type: ignore[no-untyped-def]
    """One case; every reader on its team writes one record of each type at each label."""
    platform = module_platform
    today = date.today()
    written: list[Written] = []
    with platform.transaction() as s:
        ids = {
            name: builders.user(s, name, role, "CTC", nsd_unit="North")
            for name, role in READERS.items()
        }
        case = builders.case(platform, s, "KW-1", nsd_unit="North")
        builders.members(
            s,
            [
                {
                    "case_id": case.id,
                    "user_id": uid,
                    "capacity": READERS[name],
                    "start_date": today - timedelta(days=100),
                }
                for name, uid in ids.items()
            ],
        )
        n = 0
        for name, uid in ids.items():
            specs = []
            for rtype, label in itertools.product(TYPES, LABELS):
                n += 1  # a distinct date per record lets a "further information" marker name it
                specs.append(
                    builders.Spec(
                        case.id,
                        rtype,
                        label,
                        "",
                        "PRISON",
                        today - timedelta(days=n),
                        f"{name} {rtype}",
                        f"body {name} {rtype} {label}",
                    )
                )
            new = builders.records(platform, s, uid, specs)
            written += [
                Written(i, name, sp.record_type, sp.classification, sp.occurred_on)
                for i, sp in zip(new, specs, strict=True)
            ]
    return platform, case.id, written


def _what(reader: str, w: Written) -> oracle.What:
    return oracle.What(w.label, "none", w.record_type, by_reader=w.author == reader)


@pytest.mark.parametrize("reader", list(READERS))
def test_reads_match_the_oracle(contacts, reader: str) -> None:  # type: ignore[no-untyped-def]
    platform, case_id, written = contacts
    who = oracle.Who(READERS[reader], "CTC", "team")
    mismatches = []
    with platform.db.sessions() as session, session.begin():
        ctx = ctx_for(platform, session, reader)
        items = timeline(ctx, case_id).items
        shown = {i.id for i in items if isinstance(i, RecordView)}
        marked = {i.occurred_on for i in items if isinstance(i, Notice)}
        case = session.get(Case, case_id)
        for w in written:
            what = _what(reader, w)
            want = oracle.may_read(who, what)
            decided = ctx.access.decide(
                session, ctx.subject, record_facts(ctx, case, session.get(Record, w.id)), Act.READ
            ).allowed
            try:
                record_page(ctx, w.id)
                paged = True
            except (NotFound, NotPermitted):
                paged = False
            got = (w.id in shown, decided, paged, w.occurred_on in marked)
            if got != (want, want, want, oracle.sees_marker(who, what)):
                mismatches.append(f"{reader} {w}: oracle read={want}, got {got}")
        session.rollback()
    assert not mismatches, "\n".join(mismatches)


def test_a_keyworker_reads_their_own_contacts_only(contacts) -> None:  # type: ignore[no-untyped-def]
    platform, case_id, written = contacts
    with platform.db.sessions() as session, session.begin():
        ctx = ctx_for(platform, session, "kw.one")
        items = timeline(ctx, case_id).items
        contacts_shown = {
            (w.author, w.record_type)
            for w in written
            for i in items
            if isinstance(i, RecordView) and i.id == w.id and w.record_type.startswith("CONTACT_")
        }
        session.rollback()
    assert {author for author, _ in contacts_shown} == {"kw.one"}
    assert len(contacts_shown) == 4  # every contact type of their own


def test_the_records_api_stays_open_to_keyworkers(contacts) -> None:  # type: ignore[no-untyped-def]
    """The route check is a capability: a role that may read only what it wrote still passes it
    (shareplatform/web/authorise.py); each record is decided again as it is read."""
    platform, case_id, written = contacts
    with platform.transaction() as s:
        user = s.scalar(select(User).where(User.username == "kw.one"))
        _, raw = tokens.create_token(s, platform.access, user, "t", "read", 1, by_system=True)
    app = app_for(platform)
    headers = {"Authorization": f"Bearer {raw}"}
    try:
        _ask_as(app.test_client(), headers, case_id, written)
    finally:
        app.extensions["shareplatform"].db.dispose()


def _ask_as(client, headers: dict[str, str], case_id: uuid.UUID, written: list[Written]) -> None:  # type: ignore[no-untyped-def]
    listed = client.get(f"/api/v1/cases/{case_id}/records", headers=headers)
    assert listed.status_code == 200, listed.get_data(as_text=True)
    body = listed.get_data(as_text=True)
    mine = next(w for w in written if w.author == "kw.one" and w.record_type == "CONTACT_PHONE")
    theirs = next(w for w in written if w.author == "kw.com" and w.record_type == "CONTACT_PHONE")
    assert str(mine.id) in body and str(theirs.id) not in body
    assert "body kw.com CONTACT" not in body
    own = client.get(f"/api/v1/records/{mine.id}", headers=headers)
    assert own.status_code == 200, own.get_data(as_text=True)
