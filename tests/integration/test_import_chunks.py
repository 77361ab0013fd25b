"""A large import writes in chunks, each its own transaction: other users write in between, a
malformed file still writes nothing, and an import interrupted half-way finishes when the same
file is run again. Runs on SQLite and PostgreSQL (the `platform` fixture)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from shareplatform.accounts.services import NewUser, create_user
from shareplatform.audit.log import Event
from shareplatform.audit.models import AuditEntry
from shareplatform.audit.verify import verify
from shareplatform.importer import formats
from shareplatform.importer.common import ImportInterrupted
from shareplatform.importer.nominals import import_nominals
from shareplatform.importer.records import COLUMNS, import_records
from shareplatform.records.models import Record

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
LATER = date.today() + timedelta(days=365)


def _setup(platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        create_user(
            session, NewUser("importer.ivy", "Ivy Importer", "SOL", "SC", LATER, nsd_unit="North")
        )
    assert import_nominals(platform, SAMPLES / "nominals.csv").ok


def _extract(count: int, bad_at: int | None = None) -> formats.Extract:
    rows = [
        {
            "source_system": "NDELIUS",
            "source_id": f"CHUNK-{k}",
            "case_reference": "IMP-0001",
            "record_type": "CONTACT_OFFICE",
            "occurred_on": "2025-01-01",
            "classification": "OFFICIAL-SENSITIVE",
            "title": f"Contact {k}",
            "body": "Attended; discussed licence conditions.",
        }
        for k in range(count)
    ]
    if bad_at is not None:
        rows[bad_at - 1]["classification"] = ""
    return formats.parse(json.dumps(rows).encode(), COLUMNS, "json")


def _records(platform) -> int:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return session.scalar(select(func.count()).select_from(Record)) or 0


def test_each_chunk_commits_and_other_users_write_in_between(platform) -> None:  # type: ignore[no-untyped-def]
    _setup(platform)
    before = _records(platform)
    seen: list[int] = []

    def another_user_writes(done: int, total: int) -> None:
        # a separate session: it sees the chunks committed so far and is not kept waiting
        with platform.transaction() as session:
            if session.get_bind().dialect.name == "postgresql":  # fail, never hang, if blocked
                session.execute(text("SET LOCAL lock_timeout = '5s'"))
            seen.append((session.scalar(select(func.count()).select_from(Record)) or 0) - before)
            create_user(
                session,
                NewUser(f"between.{done}", "Between Chunks", "COM", "SC", LATER, nsd_unit="North"),
            )
            platform.system_writer.record(
                session, Event(action="user.between", object_type="user", outcome="done")
            )

    report = import_records(
        platform,
        author="importer.ivy",
        extract=_extract(25),
        chunk=10,
        progress=another_user_writes,
    )
    assert report.ok and report.written and report.created == 25
    assert report.transactions == 3  # the file's own audit entry goes with the last chunk
    assert seen == [10, 20, 25]
    with platform.transaction() as session:
        assert verify(session, platform.signer.public_key).ok
        actions = [
            a
            for a in session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))
            if a.startswith(("import.records", "import.file", "user."))
        ]
    # the other user's writes landed between the import's chunks, not after the whole import
    assert actions[actions.index("import.records") :] == [
        "import.records",
        "user.between",
        "import.records",
        "user.between",
        "import.records",
        "import.file",
        "user.between",
    ]


def test_a_bad_row_after_the_first_chunk_still_writes_nothing(platform) -> None:  # type: ignore[no-untyped-def]
    _setup(platform)
    before = _records(platform)
    report = import_records(platform, author="importer.ivy", extract=_extract(25, 24), chunk=10)
    assert [(p.row, p.field) for p in report.problems] == [(24, "classification")]
    assert not report.written and report.transactions == 0 and _records(platform) == before


def test_an_interrupted_import_finishes_when_run_again(platform, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _setup(platform)
    before = _records(platform)
    writer = platform.system_writer
    real = writer.seal_bulk
    calls = []

    def fails_on_the_second_chunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "seal_bulk", fails_on_the_second_chunk)
    with pytest.raises(ImportInterrupted, match="run the same file again") as caught:
        import_records(platform, author="importer.ivy", extract=_extract(25), chunk=10)
    assert caught.value.report.created == 10 and not caught.value.report.written
    assert _records(platform) - before == 10  # the first chunk stands; the second rolled back
    monkeypatch.undo()
    again = import_records(platform, author="importer.ivy", extract=_extract(25), chunk=10)
    assert again.ok and again.written and (again.created, again.unchanged) == (15, 10)
    assert _records(platform) - before == 25
    with platform.transaction() as session:
        assert verify(session, platform.signer.public_key).ok
