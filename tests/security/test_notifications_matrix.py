"""Notifications never reveal what their recipient may not see, in the access-matrix style:
every role x vetting on a case's team, records posted by two agencies at SECRET and
OFFICIAL-SENSITIVE, compared with the independent oracle (tests/security/oracle.py). A SECRET
record never notifies anyone outside the sterile corridor: no row is even stored, and a row
forged into the database by an insider shows nothing (list, count and opening all as unknown)."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.domain.errors import NotFound
from shareplatform.notifications import services as notes
from shareplatform.notifications.models import Notification
from shareplatform.records.services import NewRecord, post_record
from tests.factories import ctx_for
from tests.security import builders, oracle

LABELS = ("SECRET", "OFFICIAL-SENSITIVE")
AUTHORS = {"HONSU": "NSD", "GOVERNOR": "PRISON"}  # two corridor authors of different agencies


def _name(role: str, vetting: str) -> str:
    return f"n.{role.lower()}.{vetting.lower()}"


@pytest.fixture
def matrix(platform):  # type: ignore[no-untyped-def]
    notes.connect()
    today = date.today()
    with platform.transaction() as s:
        case = builders.case(platform, s, "NX-1", nsd_unit="London", ct_unit="CTP London")
        ids = {}
        for role, vetting in itertools.product(oracle.ROLES, oracle.VETTINGS):
            expired = vetting == "SC-EXPIRED"
            ids[(role, vetting)] = builders.user(
                s,
                _name(role, vetting),
                role,
                "SC" if expired else vetting,
                expires=today - timedelta(days=10) if expired else None,
                nsd_unit="North",
                ct_unit="CTP North East",
            )
        for role in AUTHORS:
            ids[(role, "author")] = builders.user(s, f"author.{role.lower()}", role, "SC")
        start = today - timedelta(days=100)
        builders.members(
            s,
            [
                {"case_id": case.id, "user_id": uid, "capacity": "COM", "start_date": start}
                for uid in ids.values()
            ],
        )
        case_id = case.id
    records: dict[uuid.UUID, tuple[str, str]] = {}  # record id -> (label, author agency)
    for (role, agency), label in itertools.product(AUTHORS.items(), LABELS):
        with platform.transaction() as s:
            title = f"{label}-TITLE-BY-{agency}"
            data = NewRecord("CONTACT_OFFICE", today, label, [], title, "body")
            r = post_record(ctx_for(platform, s, f"author.{role.lower()}"), case_id, data)
            records[r.id] = (label, agency)
    return platform, ids, records


def _expected(role: str, vetting: str, records: dict[uuid.UUID, tuple[str, str]]) -> set[str]:
    who = oracle.Who(role, vetting, "team")
    return {
        f"{label}-TITLE-BY-{agency}"
        for label, agency in records.values()
        if agency != oracle.AGENCY[role]
        and oracle.may_read(who, oracle.What(label, "none", "CONTACT_OFFICE"))
    }


def test_notifications_match_the_oracle(matrix) -> None:  # type: ignore[no-untyped-def]
    platform, ids, records = matrix
    assert "SECRET-TITLE-BY-PRISON" in _expected("HONSU", "SC", records)  # not vacuous
    wrong = []
    with platform.transaction() as s:
        for role, vetting in itertools.product(oracle.ROLES, oracle.VETTINGS):
            expected = _expected(role, vetting, records)
            stored = s.scalar(
                select(Notification.id).where(
                    Notification.recipient_id == ids[(role, vetting)],
                    Notification.object_id.in_(
                        [rid for rid, (label, _) in records.items() if label == "SECRET"]
                    ),
                )
            )
            if role not in oracle.CORRIDOR and stored is not None:
                wrong.append((role, vetting, "a SECRET notification row was stored"))
            if vetting == "SC-EXPIRED":
                continue  # no session at all: the request path refuses before any page
            ctx = ctx_for(platform, s, _name(role, vetting))
            titles = {i.title.rpartition(": ")[2] for i in notes.my_notifications(ctx)}
            if titles != expected:
                wrong.append((role, vetting, sorted(titles ^ expected)))
            if notes.unread_count(ctx) != len(expected):
                wrong.append((role, vetting, "count"))
    assert wrong == []


def test_forged_rows_reveal_nothing_outside_the_corridor(matrix) -> None:  # type: ignore[no-untyped-def]
    platform, ids, records = matrix
    secret = [rid for rid, (label, _) in records.items() if label == "SECRET"]
    case_id = None
    with platform.transaction() as s:
        case_id = s.scalar(select(Notification.case_id).limit(1))
        forged: dict[tuple[str, str], list[uuid.UUID]] = {}
        for role, vetting in itertools.product(oracle.ROLES, ("SC", "DV")):
            if role in oracle.CORRIDOR:
                continue
            rows = [
                Notification(
                    recipient_id=ids[(role, vetting)],
                    kind=kind.value,
                    object_id=rid,
                    case_id=case_id,
                )
                for rid in secret
                for kind in (notes.Kinds.RECORD_NEW, notes.Kinds.RECORD_CORRECTED)
            ]
            s.add_all(rows)
            s.flush()
            forged[(role, vetting)] = [r.id for r in rows]
    leaks = []
    for (role, vetting), note_ids in forged.items():
        with platform.transaction() as s:
            ctx = ctx_for(platform, s, _name(role, vetting))
            shown = [i.title for i in notes.my_notifications(ctx)]
            if any("SECRET" in t for t in shown):
                leaks.append((role, vetting, shown))
            before = notes.unread_count(ctx)
            for nid in note_ids:
                with pytest.raises(NotFound):
                    notes.open_notification(ctx, nid)
            with pytest.raises(NotFound):  # worded as for an unknown id
                notes.open_notification(ctx, uuid.uuid4())
            if before != len(_expected(role, vetting, records)):
                leaks.append((role, vetting, "count includes a forged row"))
    assert leaks == []
