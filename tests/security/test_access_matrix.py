"""The access matrix: every role x vetting x relation x label x caveat x record type x action,
asked of the platform through its service layer and compared with the independent oracle.

Reads: records.services.timeline (what is shown, what is marked "further information is held")
and AccessLayer.decide with facts from records.services.record_facts. Writes: post_record.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from shareplatform.access.vocabulary import Act
from shareplatform.cases.models import Case
from shareplatform.domain.errors import NotFound, NotPermitted
from shareplatform.records.models import Record
from shareplatform.records.services import (
    NewRecord,
    Notice,
    RecordView,
    post_record,
    record_facts,
    timeline,
    writable_labels,
)
from tests.factories import ctx_for
from tests.security import builders, oracle

TYPES = ("CONTACT_OFFICE", "ASSESSMENT_ERG", "ENQUIRY_DOMESTIC_ABUSE")
RECORD_AGENCIES = ("PRISON", "NSD", "CTNM", "JEXU", "PLATFORM")
HOME_NSD, HOME_CT = "North", "CTP North East"
WRITE_CAVEATS = {"none": [], "orcon-own": ["ORCON"], "personal": ["PERSONAL"]}


@dataclass(frozen=True)
class Stored:
    id: uuid.UUID
    label: str
    caveats: str
    agency: str
    record_type: str
    occurred_on: date

    def what_for(self, agency: str) -> oracle.What:
        if "ORCON" in self.caveats:
            caveat = "orcon-own" if self.agency == agency else "orcon-other"
        elif "PERSONAL" in self.caveats:
            caveat = "personal"
        else:
            caveat = "none"
        return oracle.What(self.label, caveat, self.record_type)


@dataclass
class World:
    platform: object
    users: dict[tuple[str, str], str]  # (role, vetting) -> username
    cases: dict[str, uuid.UUID]  # membership -> case id
    records: dict[str, list[Stored]]  # membership -> records of that case


def _build(platform) -> World:  # type: ignore[no-untyped-def]
    today = date.today()
    with platform.transaction() as s:
        author = builders.user(s, "matrix.author", "COM", "SC", nsd_unit="London")
        users: dict[tuple[str, str], str] = {}
        ids: dict[tuple[str, str], uuid.UUID] = {}
        for role, vetting in itertools.product(oracle.ROLES, oracle.VETTINGS):
            name = f"m.{role.lower()}.{vetting.lower()}"
            expired = vetting == "SC-EXPIRED"
            ids[(role, vetting)] = builders.user(
                s,
                name,
                role,
                "SC" if expired else vetting,
                expires=today - timedelta(days=10) if expired else None,
                nsd_unit=HOME_NSD,
                ct_unit=HOME_CT,
            )
            users[(role, vetting)] = name
        cases = {}
        for membership in oracle.MEMBERSHIPS:
            home = membership == "unit"
            c = builders.case(
                platform,
                s,
                f"MX-{membership.upper()}",
                nsd_unit=HOME_NSD if home else "London",
                ct_unit=HOME_CT if home else "CTP London",
            )
            cases[membership] = c.id
        rows = []
        for uid in ids.values():
            rows.append(
                {
                    "case_id": cases["team"],
                    "user_id": uid,
                    "capacity": "COM",
                    "start_date": today - timedelta(days=100),
                }
            )
            rows.append(
                {
                    "case_id": cases["panel"],
                    "user_id": uid,
                    "capacity": "COM",
                    "panel": True,
                    "start_date": today - timedelta(days=100),
                }
            )
            rows.append(
                {
                    "case_id": cases["ended"],
                    "user_id": uid,
                    "capacity": "COM",
                    "start_date": today - timedelta(days=400),
                    "end_date": today - timedelta(days=30),
                }
            )
        builders.members(s, rows)
        stored: dict[str, list[Stored]] = {}
        for membership, case_id in cases.items():
            specs = []
            variants = [("", "NSD"), ("PERSONAL", "NSD")] + [("ORCON", a) for a in RECORD_AGENCIES]
            for n, (label, rtype, (caveats, agency)) in enumerate(
                itertools.product(oracle.LABELS, TYPES, variants)
            ):
                # a distinct date per record lets a dated "further information" marker name it
                specs.append(
                    builders.Spec(
                        case_id,
                        rtype,
                        label,
                        caveats,
                        agency,
                        today - timedelta(days=n + 1),
                        f"{membership} {label} {rtype} {caveats} {agency}",
                        f"body {label}-{n} {'SECRET-ONLY-TEXT' if label == 'SECRET' else ''}",
                    )
                )
            new_ids = builders.records(platform, s, author, specs)
            stored[membership] = [
                Stored(i, sp.classification, sp.caveats, sp.agency, sp.record_type, sp.occurred_on)
                for i, sp in zip(new_ids, specs, strict=True)
            ]
    return World(platform, users, cases, stored)


@pytest.fixture(scope="module")
def world(module_platform) -> World:  # type: ignore[no-untyped-def]
    return _build(module_platform)


def _who(role: str, vetting: str, membership: str) -> oracle.Who:
    # every matrix user lives in the home units; only the "unit" case is in those units
    home = membership == "unit"
    return oracle.Who(role, vetting, membership, same_nsd_unit=home, same_ct_unit=home)


def test_read_matrix(world: World) -> None:
    platform = world.platform
    checked: set[tuple[str, ...]] = set()
    mismatches: list[str] = []
    checks = 0
    for (role, vetting), username in world.users.items():
        agency = oracle.AGENCY[role]
        with platform.db.sessions() as session, session.begin():  # type: ignore[attr-defined]
            ctx = ctx_for(platform, session, username)  # type: ignore[arg-type]
            for membership, case_id in world.cases.items():
                who = _who(role, vetting, membership)
                try:
                    items = timeline(ctx, case_id).items
                except NotFound:
                    items = []
                shown = {i.id: i for i in items if isinstance(i, RecordView)}
                marked = {i.occurred_on for i in items if isinstance(i, Notice)}
                case = session.get(Case, case_id)
                for rec in world.records[membership]:
                    what = rec.what_for(agency)
                    want_read, want_mark = oracle.may_read(who, what), oracle.sees_marker(who, what)
                    row = session.get(Record, rec.id)
                    decided = ctx.access.decide(
                        session, ctx.subject, record_facts(ctx, case, row), Act.READ
                    ).allowed
                    got_read, got_mark = rec.id in shown, rec.occurred_on in marked
                    checks += 1
                    checked.add(
                        (
                            role,
                            vetting,
                            membership,
                            what.label,
                            what.caveat,
                            what.record_type,
                            "read",
                        )
                    )
                    if (want_read, want_read, want_mark) != (got_read, decided, got_mark):
                        mismatches.append(
                            f"{username} {membership} {what}: oracle read={want_read} "
                            f"marker={want_mark}; timeline read={got_read} decide={decided} "
                            f"marker={got_mark}"
                        )
                    if got_read:
                        view = shown[rec.id]
                        assert view.label.classification.marking == rec.label
                        assert view.body.startswith("body ")
            session.rollback()
    print(f"\nread matrix: {len(checked)} combinations, {checks} record checks")
    assert not mismatches, f"{len(mismatches)} mismatches, e.g.\n" + "\n".join(mismatches[:25])
    expected = (
        len(oracle.ROLES) * len(oracle.VETTINGS) * len(oracle.MEMBERSHIPS) * 3 * 4 * len(TYPES)
    )
    assert len(checked) == expected


def test_write_matrix(world: World) -> None:
    """post_record for every combination on SQLite; on PostgreSQL (slower round trips) every
    combination through writable_labels, the service helper that offers labels, plus post_record
    for a sample (team and panel cases, no caveat, office contacts)."""
    platform = world.platform
    full = platform.db.is_sqlite  # type: ignore[attr-defined]
    today = date.today()
    mismatches: list[str] = []
    kinds: Counter[tuple[str, str, str, bool]] = Counter()
    count = 0
    for (role, vetting), username in world.users.items():
        with platform.db.sessions() as session, session.begin():  # type: ignore[attr-defined]
            ctx = ctx_for(platform, session, username)  # type: ignore[arg-type]
            for membership, case_id in world.cases.items():
                who = _who(role, vetting, membership)
                case = session.get(Case, case_id)
                offered = {
                    rtype: {c.marking for c in writable_labels(ctx, case, rtype)} for rtype in TYPES
                }
                for label, (caveat, caveat_list), rtype in itertools.product(
                    oracle.LABELS, WRITE_CAVEATS.items(), TYPES
                ):
                    want = oracle.may_write(who, oracle.What(label, caveat, rtype))
                    sample = (
                        membership in ("team", "panel")
                        and caveat == "none"
                        and rtype == "CONTACT_OFFICE"
                    )
                    if full or sample:
                        data = NewRecord(
                            rtype,
                            today,
                            label,
                            caveat_list,
                            "Matrix note",
                            "Written by the matrix test",
                        )
                        try:
                            rec = post_record(ctx, case_id, data)
                            got = True
                            assert (
                                rec.originating_agency == oracle.AGENCY[role]
                            )  # ORCON is always the writer's own
                        except (NotFound, NotPermitted):
                            got = False
                    else:
                        got = label in offered[rtype]
                    if got != (label in offered[rtype]) and membership not in ("ended", "none"):
                        mismatches.append(
                            f"{username} {membership} {label} {rtype}: writable_labels disagrees"
                        )
                    count += 1
                    if want != got:
                        mismatches.append(
                            f"{username} {membership} {label} {caveat} {rtype}: "
                            f"oracle={want} platform={got}"
                        )
                        kinds[(role, membership, label, want)] += 1
            session.rollback()  # nothing written here is kept: every user sees the same world
    how = "post_record" if full else "writable_labels + sampled post_record"
    print(f"\nwrite matrix: {count} combinations ({how})")
    assert not mismatches, f"{len(mismatches)} mismatches {dict(kinds)}, e.g.\n" + "\n".join(
        mismatches[:25]
    )
