"""`flask import nominals` and `flask import records` killed (SIGKILL) at each step that writes,
one kill after another on the same file, then run again to completion, on SQLite and PostgreSQL.

The steps (shareplatform/importer/common.py, nominals.py): a chunk written but not committed
(`import.chunk.uncommitted`), a chunk committed (`import.chunk`), and for nominals every row
committed but not the file's audit entry (`import.file.uncommitted`; a records import writes that
entry with its last chunk). Afterwards every row is present once, nothing is half-written
(tests/support/integrity.py), each file has one `import.file` entry, progress was printed, and
the audit log verifies.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case, Nominal
from shareplatform.importer.models import ImportRef
from shareplatform.platform import Platform
from shareplatform.records.models import Record
from tests.factories import fresh_platform, make_config
from tests.security import builders
from tests.support import integrity
from tests.support.processes import flask, instance_env

pytestmark = pytest.mark.slow

NOMINALS, RECORDS, CHUNK = 12, 30, 5  # 3 and 6 chunks
NOMINAL_KILLS = ["import.chunk.uncommitted:1", "import.chunk:2", "import.file.uncommitted"]
RECORD_KILLS = ["import.chunk.uncommitted:1", "import.chunk:2", "import.chunk.uncommitted:4"]
PROGRESS = re.compile(r"written (\d+)/(\d+)")


def _nominals(folder: Path) -> Path:
    rows = [
        {
            "given_name": "Imported",
            "family_name": f"Person{n}",
            "crn": f"X{n:05d}",
            "case_reference": f"IMP-{n:03d}",
            "category": "TERRORIST",
            "phase": "COMMUNITY",
            "lead_agency": "NSD",
            "nsd_unit": "North",
        }
        for n in range(NOMINALS)
    ]
    path = folder / "nominals.json"
    path.write_text(json.dumps(rows))
    return path


def _records(folder: Path) -> Path:
    rows = [
        {
            "source_system": "NDELIUS",
            "source_id": f"FAULT-{n:05d}",
            "case_reference": f"IMP-{n % NOMINALS:03d}",
            "record_type": "CONTACT_OFFICE",
            "occurred_on": "2024-01-01",
            "classification": ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET")[n % 3],
            "title": f"Imported contact {n}",
            "body": f"Imported contact {n}: attended and discussed the licence conditions.",
        }
        for n in range(RECORDS)
    ]
    path = folder / "records.json"
    path.write_text(json.dumps(rows))
    return path


def _run(env: dict[str, str], kind: str, path: Path, fault: str | None, *extra: str):  # type: ignore[no-untyped-def]
    run_env = {**env, "SHAREPLATFORM_FAULT": fault} if fault else env
    return flask(run_env, "import", kind, str(path), "--chunk", str(CHUNK), *extra)


def _import_killed_then_finished(
    env: dict[str, str], kind: str, path: Path, kills: list[str], *extra: str
) -> list[tuple[int, int]]:
    """Each kill in turn, then a clean run; returns the progress the runs printed."""
    progress: list[tuple[int, int]] = []
    for fault in kills:
        killed = _run(env, kind, path, fault, *extra)
        assert killed.returncode == -9, (fault, killed.returncode, killed.stdout, killed.stderr)
        progress += [(int(a), int(b)) for a, b in PROGRESS.findall(killed.stderr)]
    done = _run(env, kind, path, None, *extra)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "written" in done.stdout, done.stdout
    progress += [(int(a), int(b)) for a, b in PROGRESS.findall(done.stderr)]
    # printed as chunks commit, up to the run that wrote the last row (maybe a killed one)
    assert any(a == b for a, b in progress), (progress, done.stderr)
    return progress


def test_imports_killed_at_each_write_step_finish_when_run_again(
    db_url: str, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    platform = fresh_platform(db_url, keys)
    try:
        small = builders.small_world(platform)
        with platform.transaction() as session:
            exempt = integrity.record_ids(session)
    finally:
        platform.close()
    env = instance_env(db_url, keys)
    nominals, records = _nominals(tmp_path), _records(tmp_path)

    nominal_progress = _import_killed_then_finished(env, "nominals", nominals, NOMINAL_KILLS)
    record_progress = _import_killed_then_finished(
        env, "records", records, RECORD_KILLS, "--author", small.com
    )
    again = _run(env, "records", records, None, "--author", small.com)  # a re-import: no change
    assert f"0 new, {RECORDS} already present" in again.stdout, again.stdout

    platform = Platform(make_config(db_url, keys))
    try:
        with platform.transaction() as session:
            counts = _counts(session)
            found = integrity.check(session, exempt=exempt)
    finally:
        platform.close()
    verify = flask(env, "audit", "verify")
    backend = db_url.split(":")[0].split("+")[0]
    integrity.report(
        f"import_kills[{backend}]",
        kills=len(NOMINAL_KILLS) + len(RECORD_KILLS),
        rows=NOMINALS + RECORDS,
        **counts,
        half_written=found.half_written,
        progress_lines=len(nominal_progress) + len(record_progress),
    )
    assert counts["nominals"] == counts["cases"] == NOMINALS
    assert counts["records"] == counts["record_refs"] == RECORDS  # every row, once
    assert counts["distinct_source_ids"] == RECORDS
    assert counts["file_entries"] == 3  # nominals, records, and the unchanged re-import
    assert found.half_written == 0, found.problems()
    assert nominal_progress and record_progress
    assert "audit chain intact" in verify.stdout, (verify.stdout, verify.stderr)


def _counts(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    imported_cases = select(Case.id).where(Case.reference.like("IMP-%"))
    imported = Record.case_id.in_(imported_cases)

    def count(statement) -> int:  # type: ignore[no-untyped-def]
        return int(session.scalar(statement) or 0)

    return {
        "nominals": count(
            select(func.count())
            .select_from(Nominal)
            .where(Nominal.id.in_(select(Case.nominal_id).where(Case.reference.like("IMP-%"))))
        ),
        "cases": count(select(func.count()).select_from(Case).where(Case.reference.like("IMP-%"))),
        "records": count(select(func.count()).select_from(Record).where(imported)),
        "record_refs": count(
            select(func.count()).select_from(ImportRef).where(ImportRef.kind == "record")
        ),
        "distinct_source_ids": count(
            select(func.count(func.distinct(ImportRef.digest))).where(ImportRef.kind == "record")
        ),
        "file_entries": count(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "import.file")
        ),
    }
