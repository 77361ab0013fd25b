"""Importing records (contacts, assessments, enquiries, plans, minutes) from an extract.

Every row must carry its label (no label: refused). Each record remembers its source-system id as
a blind index (import_refs), so re-importing the same file changes nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..audit.log import Event
from ..cases.models import Case, NominalIndex
from ..cases.services import IDENTIFIERS
from ..crypto.models import DataKey
from ..db import utcnow
from ..domain.agencies import Agency
from ..domain.cases import RecordType
from ..domain.errors import InvalidValue
from ..domain.labels import Classification, Label, highest
from ..platform import Platform
from ..records.models import Record, RecordAttendee
from ..records.services import MAX_BODY, MAX_TITLE
from . import formats
from .common import (
    BATCH,
    CHUNK,
    SOURCE_AGENCY,
    ImportReport,
    Progress,
    before_commit,
    chunk_of,
    chunks,
    memo,
    no_progress,
    paced,
    record_file,
)
from .formats import Problem, Value, parse_date, text
from .models import ImportRef

COLUMNS: dict[str, tuple[str, ...]] = {
    "source_system": ("system",),
    "source_id": ("external_id", "event_id", "contact_id", "source_reference"),
    "case_reference": ("reference",),
    "pnc": ("pnc_id", "pnc_number"),
    "cro": ("cro_number",),
    "nomis": ("nomis_number", "noms_number", "prison_number", "offender_no"),
    "crn": ("ndelius_crn",),
    "visor": ("visor_number", "visor_ref", "visor_id"),
    "record_type": ("type", "contact_type", "entry_type"),
    "occurred_on": ("date", "contact_date", "event_date"),
    "classification": ("protective_marking", "marking", "gsc"),
    "caveats": ("handling_caveats", "descriptors"),
    "title": ("subject", "summary"),
    "body": ("notes", "details", "text", "narrative"),
    "originating_agency": ("agency",),
    "author": ("author_username",),
    "source_author": ("recorded_by", "officer"),
    "joint_agencies": ("attending_agencies",),
}


@dataclass
class _Row:
    number: int
    system: str
    source_id: str
    case_key: tuple[str, str]  # ("reference", "SP-1001") or (identifier kind, value)
    record_type: RecordType
    occurred_on: date
    label: Label
    title: str
    body: str
    agency: str
    author: str
    joint: list[str]


def source_digest(platform: Platform, system: str, source_id: str) -> bytes:
    return platform.indexer.digest(f"src_{system.lower()}", source_id)


def import_records(
    platform: Platform,
    path: Path | None = None,
    *,
    author: str,
    extract: formats.Extract | None = None,
    fmt: str | None = None,
    dry_run: bool = False,
    progress: Progress = no_progress,
    today: date | None = None,
    chunk: int = CHUNK,
) -> ImportReport:
    """Validate and plan every row; unless a dry run or any problem, write the new rows in chunks
    of `chunk`, each its own transaction (see common.py: a failure half-way raises
    ImportInterrupted, and running the same file again finishes the import).

    `author`: the platform user accountable for the import (author where a row names none).
    """
    today = today or date.today()
    started = time.perf_counter()
    ex = extract if extract is not None else formats.read(path, COLUMNS, fmt, "records")  # type: ignore[arg-type]
    report = ImportReport(
        "records",
        ex.sha256,
        rows=ex.total,
        problems=list(ex.problems),
        dry_run=dry_run,
        started=started,
    )
    rows = [r for r in (_validate(n, row, today, report.problems) for n, row in ex.rows) if r]
    with platform.db.transaction() as session:  # reads only: nothing is written while planning
        importer = _importer(session, author, report)
        planned = _plan(session, platform, rows, importer, report) if importer else []
    if dry_run or report.problems or importer is None:
        return report.finish()

    def file_entry(session: Session) -> None:  # with the last chunk: the file is then complete
        record_file(
            session,
            platform,
            ex.sha256,
            _highest(p.row.label for p in planned).marking,
            {
                "kind": "records",
                "rows": report.rows,
                "created": report.created,
                "unchanged": report.unchanged,
                "by": importer.username,
            },
        )

    _write(platform, planned, report, progress, chunk, file_entry)
    report.written = True
    return report.finish()


def _importer(session: Session, author: str, report: ImportReport) -> User | None:
    importer = session.scalar(select(User).where(User.username == author))
    if importer is None or importer.disabled_at is not None:
        report.problems.append(Problem(0, "author", f"no active platform user {author[:64]!r}"))
        return None
    return importer


def _highest(labels) -> Classification:
    return highest(label.classification for label in labels)


def _validate(
    number: int, row: dict[str, Value], today: date, problems: list[Problem]
) -> _Row | None:
    found: list[Problem] = []

    def bad(column: str, why: str) -> None:
        found.append(Problem(number, column, why))

    system = text(row, "source_system").upper()
    if system not in SOURCE_AGENCY:
        bad("source_system", f"required: one of {', '.join(SOURCE_AGENCY)}")
    source_id = text(row, "source_id")
    if not source_id or len(source_id) > 64 or not any(ch.isalnum() for ch in source_id):
        bad("source_id", "required: the record's id in the source system (up to 64 characters)")
    case_key = _case_key(row, bad)
    record_type = _record_type(row, bad)
    occurred = _occurred(row, today, bad)
    label = _label(row, record_type, bad)
    title, body = _text(row, system, source_id, bad)
    agency, joint = _agencies(row, system, record_type, bad)
    author = text(row, "author")
    if found or record_type is None or occurred is None or label is None or case_key is None:
        problems.extend(found)
        return None
    return _Row(
        number,
        system,
        source_id,
        case_key,
        record_type,
        occurred,
        label,
        title,
        body,
        agency,
        author,
        joint,
    )


# Parses of the values an extract repeats on every row, each done once per distinct value.
_type_of = memo(RecordType.parse)
_agency_of = memo(lambda value: Agency.parse(value).value)
_date_of = memo(parse_date)


@memo
def _label_of(
    classification: str, caveats: tuple[str, ...], record_type: RecordType | None
) -> Label:
    label = Label.of(classification, caveats)
    if record_type is not None:
        record_type.check_label(label.classification)
    return label


def _record_type(row: dict[str, Value], bad) -> RecordType | None:
    try:
        record_type = _type_of(text(row, "record_type"))
    except InvalidValue as exc:
        bad("record_type", str(exc) if text(row, "record_type") else "required")
        return None
    if record_type is RecordType.SANITISED_ACTION:
        bad("record_type", "sanitised actions are released by a chair, not imported")
    return record_type


def _occurred(row: dict[str, Value], today: date, bad) -> date | None:
    try:
        occurred = _date_of(text(row, "occurred_on"))
    except ValueError as exc:
        bad("occurred_on", str(exc) if text(row, "occurred_on") else "required")
        return None
    if occurred > today:
        bad("occurred_on", "in the future")
    return occurred


def _label(row: dict[str, Value], record_type: RecordType | None, bad) -> Label | None:
    classification = text(row, "classification")
    if not classification:
        bad("classification", "required: an unlabelled record is refused")
        return None
    try:
        return _label_of(classification, tuple(formats.items(row, "caveats")), record_type)
    except InvalidValue as exc:
        bad("caveats" if "caveat" in str(exc).lower() else "classification", str(exc))
        return None


def _text(row: dict[str, Value], system: str, source_id: str, bad) -> tuple[str, str]:
    title, body = text(row, "title"), text(row, "body")
    if not title or len(title) > MAX_TITLE:
        bad("title", f"required, up to {MAX_TITLE} characters")
    source_author = text(row, "source_author")
    if len(source_author) > 120:
        bad("source_author", "longer than 120 characters")
    if source_author and system in SOURCE_AGENCY and body:  # who wrote it in the source system
        body = f"[Recorded by {source_author} in {system}, ref {source_id}]\n{body}"
    if not body or len(body) > MAX_BODY:
        bad("body", f"required, up to {MAX_BODY} characters")
    return title, body


def _agencies(
    row: dict[str, Value], system: str, record_type: RecordType | None, bad
) -> tuple[str, list[str]]:
    agency = text(row, "originating_agency").upper() or SOURCE_AGENCY.get(system, "")
    try:
        agency = _agency_of(agency) if agency else ""
        if agency == Agency.PLATFORM.value:
            bad("originating_agency", "records come from PRISON, NSD, CTNM or JEXU")
    except InvalidValue as exc:
        bad("originating_agency", str(exc))
    joint: list[str] = []
    try:
        joint = [_agency_of(a) for a in formats.items(row, "joint_agencies")]
    except InvalidValue as exc:
        bad("joint_agencies", str(exc))
    if record_type is RecordType.CONTACT_JOINT_VISIT and not joint:
        bad("joint_agencies", "a joint visit needs the other agency that attended")
    return agency, joint


def _case_key(row: dict[str, Value], bad) -> tuple[str, str] | None:
    reference = text(row, "case_reference")
    if reference:
        return ("reference", reference)
    for kind in IDENTIFIERS:
        if text(row, kind):
            return (kind, text(row, kind))
    bad("case_reference", f"required: the case reference, or one of {', '.join(IDENTIFIERS)}")
    return None


@dataclass
class _Planned:
    row: _Row
    case_id: uuid.UUID
    author_id: uuid.UUID
    digest: bytes


def _plan(
    session: Session, platform: Platform, rows: list[_Row], importer: User, report: ImportReport
) -> list[_Planned]:
    refs = sorted({r.case_key[1] for r in rows if r.case_key[0] == "reference"})
    by_ref: dict[str, uuid.UUID] = {}
    for start in range(0, len(refs), BATCH):
        by_ref.update(
            session.execute(
                select(Case.reference, Case.id).where(
                    Case.reference.in_(refs[start : start + BATCH])
                )
            ).all()
        )
    by_ident = _cases_by_identifier(
        session, platform, [r.case_key for r in rows if r.case_key[0] != "reference"]
    )
    names = sorted({r.author for r in rows if r.author})
    authors: dict[str, uuid.UUID] = (
        dict(session.execute(select(User.username, User.id).where(User.username.in_(names))).all())
        if names
        else {}
    )
    digests = {r.number: source_digest(platform, r.system, r.source_id) for r in rows}
    done = _imported(session, list(set(digests.values())))
    seen: dict[bytes, int] = {}
    planned: list[_Planned] = []
    for row in rows:
        digest = digests[row.number]
        if digest in seen:
            report.problems.append(
                Problem(row.number, "source_id", f"also in row {seen[digest]} of this file")
            )
            continue
        seen[digest] = row.number
        if row.case_key[0] == "reference":
            case_id = by_ref.get(row.case_key[1])
            if case_id is None:
                report.problems.append(
                    Problem(row.number, "case_reference", "no case with this reference")
                )
                continue
        else:
            found = by_ident.get(row.case_key, set())
            if len(found) != 1:
                why = (
                    "matches no case"
                    if not found
                    else "matches more than one case: give case_reference"
                )
                report.problems.append(Problem(row.number, row.case_key[0], why))
                continue
            case_id = next(iter(found))
        if row.author and row.author not in authors:
            report.problems.append(
                Problem(row.number, "author", "no platform user with this username")
            )
            continue
        if digest in done:
            report.unchanged += 1
            continue
        planned.append(_Planned(row, case_id, authors.get(row.author, importer.id), digest))
    report.created = len(planned)
    return planned


def _cases_by_identifier(
    session: Session, platform: Platform, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], set[uuid.UUID]]:
    wanted = {platform.indexer.digest(kind, value): (kind, value) for kind, value in set(keys)}
    out: dict[tuple[str, str], set[uuid.UUID]] = {}
    values = sorted(wanted)
    for start in range(0, len(values), BATCH):
        rows = session.execute(
            select(NominalIndex.digest, NominalIndex.kind, Case.id)
            .join(Case, Case.nominal_id == NominalIndex.nominal_id)
            .where(
                NominalIndex.kind.in_(IDENTIFIERS),
                NominalIndex.digest.in_(values[start : start + BATCH]),
            )
        )
        for digest, kind, case_id in rows:
            key = wanted[digest]
            if key[0] == kind:
                out.setdefault(key, set()).add(case_id)
    return out


def _write(
    platform: Platform,
    planned: list[_Planned],
    report: ImportReport,
    progress: Progress,
    size: int,
    file_entry: Callable[[Session], None],
) -> None:
    """Each chunk in a transaction of its own: the database's write lock (SQLite) and the audit
    log's head row are held for one chunk at a time, so other users' writes go in between."""
    done = 0
    # a re-import plans no rows: its one chunk is empty and writes only the file's entry
    for batch, last in paced(planned, size, sqlite=platform.db.is_sqlite):
        with chunk_of(report, done), platform.db.transaction() as session:
            if batch:
                _write_chunk(session, platform, batch, report.file_sha256)
            if last:
                file_entry(session)
            before_commit()
        done += len(batch)
        progress(done, len(planned))


def _write_chunk(
    session: Session, platform: Platform, chunk: Sequence[_Planned], file_sha256: str
) -> None:
    """Seal and insert the rows of one chunk; one audit entry naming them. The plan left out
    every row already imported; a concurrent import of the same rows fails this chunk on the
    unique source digest (import_refs) and a re-run then skips what that import wrote."""
    now = utcnow()
    rows: list[dict[str, object]] = []
    plains: list[dict[str, str | None]] = []
    attendees: list[dict[str, object]] = []
    refs: list[dict[str, object]] = []
    for p in chunk:
        rid = uuid.uuid4()
        r = p.row
        rows.append(
            {
                "id": rid,
                "case_id": p.case_id,
                "record_type": r.record_type.value,
                "originating_agency": r.agency,
                "author_id": p.author_id,
                "occurred_on": r.occurred_on,
                "created_at": now,
                "classification": r.label.classification.marking,
                "caveats": r.label.caveat_text(),
                # facts left at their defaults, given here so the stamp need not look them up
                "released_at": None,
                "supersedes_id": None,
                "source_id": None,
            }
        )
        plains.append({"title": r.title, "body": r.body, "correction_reason": None})
        attendees += [
            {"record_id": rid, "agency": a, "user_id": None}
            for a in dict.fromkeys([r.agency, *r.joint])
        ]
        refs.append(
            {
                "kind": "record",
                "source_system": r.system,
                "digest": p.digest,
                "target_id": rid,
                "created_at": now,
            }
        )
    keys = platform.system_writer.seal_bulk(
        session,
        Record,
        rows,
        plains,
        Event(
            action="import.records",
            object_type="record",
            outcome="done",
            label=_highest(p.row.label for p in chunk),
            detail={"file": file_sha256, "ids": [str(r["id"]) for r in rows]},
        ),
    )
    session.execute(_INSERT_KEYS, keys)
    session.execute(_INSERT_RECORDS, rows)
    session.execute(_INSERT_ATTENDEES, attendees)
    session.execute(_INSERT_REFS, refs)


def _imported(session: Session, digests: list[bytes]) -> set[bytes]:
    """Which of these source records are already imported (one query per chunk of digests)."""
    found: set[bytes] = set()
    for part in chunks(sorted(digests), BATCH):
        found.update(session.scalars(_IMPORTED, {"digests": list(part)}))
    return found


# Prebuilt Core statements: compiled once, executed with a list of rows (executemany).
_INSERT_KEYS = insert(cast(Table, DataKey.__table__))
_INSERT_RECORDS = insert(cast(Table, Record.__table__))
_INSERT_ATTENDEES = insert(cast(Table, RecordAttendee.__table__))
_INSERT_REFS = insert(cast(Table, ImportRef.__table__))
_refs = cast(Table, ImportRef.__table__)
_IMPORTED = select(_refs.c.digest).where(
    _refs.c.kind == "record", _refs.c.digest.in_(bindparam("digests", expanding=True))
)
