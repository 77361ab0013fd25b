"""Property-based tests of the importer on malformed files: it never crashes, every problem names
a row and a field, and a file with any problem writes nothing at all."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shareplatform.accounts.services import NewUser, create_user
from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case, Nominal
from shareplatform.importer import formats
from shareplatform.importer import nominals as nom
from shareplatform.importer import records as rec
from shareplatform.records.models import Record
from tests.factories import fresh_platform

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("import-props")
    p = fresh_platform(f"sqlite:///{root / 'db.sqlite'}", root / "keys")
    with p.transaction() as session:
        create_user(
            session,
            NewUser(
                "importer.ivy",
                "Ivy Importer",
                "SOL",
                "SC",
                date.today() + timedelta(days=30),
                nsd_unit="North",
            ),
        )
    raw = (
        b"given_name,family_name,crn,case_reference,category,phase,lead_agency\n"
        b"Ada,Base,X100,BASE-1,TERRORIST,CUSTODY,PRISON\n"
    )
    assert nom.import_nominals(p, extract=formats.parse(raw, nom.COLUMNS, "csv")).written
    yield p
    p.db.dispose()


def _counts(p) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with p.transaction() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(t)) or 0
            for t in (Nominal, Case, Record, AuditEntry)
        )


def _check(report, before, after) -> None:  # type: ignore[no-untyped-def]
    for problem in report.problems:
        assert problem.row >= 0 and problem.problem
    if report.problems:
        assert not report.written and after == before


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
cell = st.one_of(
    text,
    st.sampled_from(
        [
            "",
            "SECRET",
            "TOP SECRET",
            "OFFICIAL",
            "ORCON",
            "BASE-1",
            "X100",
            "NDELIUS",
            "VISOR",
            "CONTACT_OFFICE",
            "2024-02-30",
            "01/01/2020",
            "2999-01-01",
            "MINUTES",
            "SANITISED_ACTION",
            "\x00",
        ]
    ),
)
record_columns = st.lists(
    st.sampled_from([*rec.COLUMNS, "unknown", "Contact Date", "PNC_ID"]),
    min_size=1,
    max_size=8,
    unique=True,
)


@SETTINGS
@given(raw=st.binary(max_size=400), fmt=st.sampled_from(["csv", "json"]))
def test_arbitrary_bytes_never_crash_or_write(world, raw: bytes, fmt: str) -> None:  # type: ignore[no-untyped-def]
    before = _counts(world)
    report = rec.import_records(
        world, author="importer.ivy", extract=formats.parse(raw, rec.COLUMNS, fmt, "records")
    )
    _check(report, before, _counts(world))


@SETTINGS
@given(columns=record_columns, data=st.data())
def test_malformed_record_csv(world, columns: list[str], data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    rows = data.draw(st.lists(st.fixed_dictionaries({c: cell for c in columns}), max_size=5))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    before = _counts(world)
    report = rec.import_records(
        world,
        author="importer.ivy",
        dry_run=data.draw(st.booleans()),
        extract=formats.parse(buf.getvalue().encode(), rec.COLUMNS, "csv"),
    )
    after = _counts(world)
    _check(report, before, after)
    if report.dry_run:
        assert after == before


json_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    text,
    st.lists(text, max_size=3),
    st.dictionaries(text, text, max_size=2),
)


@SETTINGS
@given(
    items=st.lists(
        st.one_of(
            json_value,
            st.dictionaries(st.sampled_from([*nom.COLUMNS, "x"]), json_value, max_size=8),
        ),
        max_size=4,
    ),
    wrap=st.booleans(),
)
def test_malformed_nominal_json(world, items: list[object], wrap: bool) -> None:  # type: ignore[no-untyped-def]
    raw = json.dumps({"nominals": items} if wrap else items).encode()
    before = _counts(world)
    report = nom.import_nominals(
        world, extract=formats.parse(raw, nom.COLUMNS, "json", "nominals"), dry_run=True
    )
    _check(report, before, _counts(world))
    assert _counts(world) == before  # a dry run never writes


@SETTINGS
@given(
    good=st.integers(min_value=1, max_value=4),
    bad_at=st.integers(min_value=0, max_value=4),
    flaw=st.sampled_from(
        ["classification", "occurred_on", "record_type", "case_reference", "source_id"]
    ),
)
def test_one_flawed_row_writes_nothing(world, good: int, bad_at: int, flaw: str) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {
            "source_system": "NDELIUS",
            "source_id": f"P-{i}-{good}-{bad_at}-{flaw}",
            "case_reference": "BASE-1",
            "record_type": "CONTACT_PHONE",
            "occurred_on": "2024-05-01",
            "classification": "OFFICIAL",
            "title": "Call",
            "body": "Spoke briefly.",
        }
        for i in range(good)
    ]
    broken = {
        "classification": "",
        "occurred_on": "yesterday",
        "record_type": "GOSSIP",
        "case_reference": "NO-SUCH-CASE",
        "source_id": "",
    }[flaw]
    rows.insert(min(bad_at, len(rows)), {**rows[0], "source_id": "P-bad", flaw: broken})
    before = _counts(world)
    report = rec.import_records(
        world,
        author="importer.ivy",
        extract=formats.parse(json.dumps(rows).encode(), rec.COLUMNS, "json"),
    )
    assert [p.field for p in report.problems] == [flaw]
    assert not report.written and _counts(world) == before
