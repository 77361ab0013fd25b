"""Importing nominals and records: dry run, all-or-nothing, idempotent re-import, labels, audit.

Runs on SQLite and PostgreSQL (the `platform` fixture)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shareplatform.accounts.services import NewUser, create_user
from shareplatform.audit.models import AuditEntry
from shareplatform.audit.verify import verify
from shareplatform.cases.models import Case, Nominal, NominalIndex
from shareplatform.importer.nominals import import_nominals
from shareplatform.importer.records import import_records
from shareplatform.records.models import Record
from shareplatform.records.services import timeline
from tests.factories import app_for, ctx_for

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
TABLES = (Nominal, NominalIndex, Case, Record, AuditEntry)


def _counts(platform) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return {
            t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
            for t in TABLES
        }


def _users(platform) -> None:  # type: ignore[no-untyped-def]
    later = date.today() + timedelta(days=365)
    with platform.transaction() as session:
        create_user(
            session, NewUser("importer.ivy", "Ivy Importer", "SOL", "SC", later, nsd_unit="North")
        )
        create_user(
            session, NewUser("honsu.north", "Nell North", "HONSU", "SC", later, nsd_unit="North")
        )
        create_user(
            session, NewUser("com.north", "Carl North", "COM", "SC", later, nsd_unit="North")
        )


def _import_samples(platform, dry_run: bool = False) -> list:  # type: ignore[no-untyped-def,type-arg]
    return [
        import_nominals(platform, SAMPLES / "nominals.csv", dry_run=dry_run),
        import_nominals(platform, SAMPLES / "nominals.json", dry_run=dry_run),
        import_records(platform, SAMPLES / "records.csv", author="importer.ivy", dry_run=dry_run),
        import_records(platform, SAMPLES / "records.json", author="importer.ivy", dry_run=dry_run),
    ]


def test_samples_import_once_and_reimport_changes_nothing(platform) -> None:  # type: ignore[no-untyped-def]
    _users(platform)
    before = _counts(platform)
    reports = _import_samples(platform)
    assert all(r.ok and r.written for r in reports), [r.summary() for r in reports]
    after = _counts(platform)
    assert after["nominals"] - before["nominals"] == 4 and after["cases"] - before["cases"] == 4
    assert after["records"] - before["records"] == 5
    again = _import_samples(platform)
    assert [r.created for r in again] == [0, 0, 0, 0]
    assert [r.unchanged for r in again] == [3, 1, 3, 2]
    final = _counts(platform)
    assert {k: v for k, v in final.items() if k != "audit_log"} == {
        k: v for k, v in after.items() if k != "audit_log"
    }
    with platform.transaction() as session:
        assert verify(session, platform.signer.public_key).ok
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("import.%")))
        )
    assert actions.count("import.records") == 2 and actions.count("import.nominals") == 2


def test_imported_records_keep_their_labels_and_follow_policy(platform) -> None:  # type: ignore[no-untyped-def]
    _users(platform)
    assert all(r.ok for r in _import_samples(platform))
    with platform.transaction() as session:
        case = session.scalar(select(Case).where(Case.reference == "IMP-0001"))
        assert case is not None
        rows = session.scalars(select(Record).where(Record.case_id == case.id)).all()
        labels = sorted((r.classification, r.caveats, r.originating_agency) for r in rows)
        assert ("SECRET", "ORCON,UK EYES ONLY", "CTNM") in labels
        assert ("OFFICIAL-SENSITIVE", "ORCON", "NSD") in labels
        # a HoNSU with oversight of the North unit reads what the policy lets them read
        ctx = ctx_for(platform, session, "honsu.north")
        line = timeline(ctx, case.id)
        bodies = [getattr(i, "body", "") for i in line.items]
        assert any(
            "Address checked" in b and b.startswith("[Recorded by DC Example in VISOR")
            for b in bodies
        )
        # the ORCON SECRET minute came from CTNM: withheld from NSD's HoNSU until released
        assert not any("Decision recorded following a disclosure" in b for b in bodies)


def test_dry_run_reports_and_writes_nothing(platform, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _users(platform)
    before = _counts(platform)
    dry = _import_samples(platform, dry_run=True)
    assert dry[0].ok and dry[0].created == 3 and not dry[0].written
    assert not dry[2].ok  # the nominals were not written, so the records have no case to go to
    assert _counts(platform) == before
    bad = tmp_path / "records.csv"
    bad.write_text(
        "source_system,source_id,case_reference,record_type,occurred_on,classification,title,body\n"
        "NDELIUS,A1,IMP-0001,CONTACT_OFFICE,2025-01-01,,Untitled,No label here\n"
        "NDELIUS,A2,IMP-9999,CONTACT_TELEPATHY,2099-01-01,TOP SECRET,,\n"
    )
    report = import_records(platform, bad, author="importer.ivy", dry_run=True)
    found = {(p.row, p.field) for p in report.problems}
    assert (1, "classification") in found  # unlabelled: refused
    assert {
        (2, "record_type"),
        (2, "occurred_on"),
        (2, "classification"),
        (2, "title"),
        (2, "body"),
    } <= found
    assert not report.written
    assert _counts(platform) == before


def test_one_bad_row_refuses_the_whole_file(platform, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _users(platform)
    before = _counts(platform)
    rows = json.loads((SAMPLES / "nominals.json").read_text())["nominals"]
    good = [
        {**rows[0], "nomis": f"B{k:04d}XY", "pnc": "", "case_reference": f"BULK-{k}"}
        for k in range(700)
    ]
    good[650] = {**good[650], "date_of_birth": "31/02/1990"}
    path = tmp_path / "nominals.json"
    path.write_text(json.dumps(good))
    report = import_nominals(platform, path)
    assert [(p.row, p.field) for p in report.problems] == [(651, "date_of_birth")]
    assert not report.written and _counts(platform) == before


def test_duplicates_within_a_file_and_clashing_references(platform, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _users(platform)
    assert import_nominals(platform, SAMPLES / "nominals.csv").ok
    path = tmp_path / "n.csv"
    path.write_text(
        "given_name,family_name,pnc,crn,case_reference,category,phase,lead_agency\n"
        "Ann,One,2001/1111111A,,NEW-1,TERRORIST,CUSTODY,PRISON\n"
        "Ann,One,2001/1111111A,,NEW-2,TERRORIST,CUSTODY,PRISON\n"
        "Bo,Two,,X999999,IMP-0001,TERRORIST,CUSTODY,PRISON\n"
        "Cy,Three,2011/0456789K,X710002,,,,\n"
    )
    report = import_nominals(platform, path, dry_run=True)
    assert {(p.row, p.field) for p in report.problems} == {
        (2, "identifiers"),
        (3, "case_reference"),
        (4, "identifiers"),
    }


def test_cli_dry_run_prints_the_report(platform, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _users(platform)
    app = app_for(platform)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["import", "nominals", str(SAMPLES / "nominals.csv"), "--dry-run"])
    assert ok.exit_code == 0 and "3 new" in ok.output and "nothing written" in ok.output
    bad = tmp_path / "r.csv"
    bad.write_text("source_system,source_id,case_reference,title\nNDELIUS,X1,IMP-0001,Hello\n")
    result = runner.invoke(
        args=["import", "records", str(bad), "--author", "importer.ivy", "--dry-run"]
    )
    assert result.exit_code == 1
    assert (
        "classification" in result.output
        and "required: an unlabelled record is refused" in result.output
    )
    real = runner.invoke(args=["import", "nominals", str(SAMPLES / "nominals.csv")])
    app.extensions["shareplatform"].db.dispose()
    assert real.exit_code == 0 and "(written)" in real.output


@pytest.mark.parametrize("author", ["nobody.here"])
def test_unknown_importer_is_refused(platform, author: str) -> None:  # type: ignore[no-untyped-def]
    report = import_records(platform, SAMPLES / "records.csv", author=author)
    assert [(p.row, p.field) for p in report.problems] == [(0, "author")] and not report.written


def test_throughput_is_measurable(platform) -> None:  # type: ignore[no-untyped-def]
    from benchmarks.import_throughput import measure

    _users(platform)
    result = measure(platform, records=40, author="importer.ivy")
    assert (
        result.records == 40
        and result.import_rows_per_second > 0
        and result.reimport_rows_per_second > 0
    )
    with platform.transaction() as session:
        assert (
            session.scalar(select(func.count()).select_from(Record)) == 40
        )  # the re-import added nothing


def test_imported_nominals_carry_search_tokens(platform) -> None:  # type: ignore[no-untyped-def]
    """The bulk importer writes the same partial and sound-alike tokens as add_nominal, so an
    imported person is found by part of a name (tests/integration/test_search.py)."""
    from shareplatform.cases.models import NominalToken
    from shareplatform.cases.search import token_terms

    assert import_nominals(platform, SAMPLES / "nominals.csv").ok
    expected = {
        platform.indexer.digest(kind, value)
        for kind, value in token_terms("Jordan", "Hart", ["J. Hart", "Jay Hart"], "1991-02-14")
    }
    with platform.transaction() as s:
        [hart] = [
            n
            for n in s.scalars(select(NominalIndex))
            if n.digest == platform.indexer.digest("pnc", "2011/0456789K")
        ]
        stored = set(
            s.scalars(select(NominalToken.digest).where(NominalToken.nominal_id == hart.nominal_id))
        )
    assert stored == expected
