"""Importing nominals (and the case each is managed under) from a ViSOR / nDelius / NOMIS extract.

A nominal is matched on its identifiers through the blind index, never on plaintext: a row whose
PNC, CRO, NOMIS, CRN or ViSOR number is already indexed is the same person and is left unchanged.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .. import faults
from ..audit.log import Event
from ..cases.models import Case, Nominal, NominalIndex, NominalToken
from ..cases.search import token_terms
from ..cases.services import IDENTIFIERS, index_terms
from ..crypto.models import DataKey
from ..db import utcnow
from ..domain.agencies import CT_UNITS, NSD_UNITS, Agency
from ..domain.cases import CaseCategory, MappaCategory, MappaLevel, Phase
from ..domain.errors import InvalidValue
from ..domain.labels import Classification
from ..platform import Platform
from . import formats
from .common import (
    BATCH,
    CHUNK,
    SOURCE_AGENCY,
    ImportReport,
    Progress,
    before_commit,
    chunk_of,
    no_progress,
    paced,
    record_file,
)
from .formats import Problem, Value, parse_date, text

COLUMNS: dict[str, tuple[str, ...]] = {
    "source_system": ("system",),
    "given_name": ("forename", "first_name", "firstname", "forename1"),
    "family_name": ("surname", "last_name", "lastname"),
    "aliases": ("alias", "also_known_as"),
    "date_of_birth": ("dob", "birth_date"),
    "pnc": ("pnc_id", "pnc_number", "pnc_no"),
    "cro": ("cro_number", "cro_no"),
    "nomis": ("nomis_number", "noms_number", "prison_number", "offender_no"),
    "crn": ("ndelius_crn", "case_reference_number"),
    "visor": ("visor_number", "visor_ref", "visor_id"),
    "case_reference": ("reference",),
    "category": ("case_category",),
    "phase": (),
    "lead_agency": (),
    "nsd_unit": (),
    "ct_unit": (),
    "establishment": ("prison", "prison_establishment"),
    "mappa_category": (),
    "mappa_level": (),
    "release_date": (),
    "licence_end": ("licence_expiry_date", "led"),
    "sentence_end": ("sentence_expiry_date", "sed"),
    "next_review": ("next_mappa_review",),
}
CASE_DATES = ("release_date", "licence_end", "sentence_end", "next_review")


@dataclass
class _Row:
    number: int
    given: str
    family: str
    aliases: list[str]
    dob: date | None
    ids: dict[str, str]
    case: dict[str, object] | None


def import_nominals(
    platform: Platform,
    path: Path | None = None,
    *,
    extract: formats.Extract | None = None,
    fmt: str | None = None,
    dry_run: bool = False,
    progress: Progress = no_progress,
    today: date | None = None,
    chunk: int = CHUNK,
) -> ImportReport:
    """Validate and plan every row; unless a dry run or any problem, write the new nominals (and
    their cases) in chunks of `chunk`, each its own transaction (see common.py)."""
    started = time.perf_counter()
    ex = extract if extract is not None else formats.read(path, COLUMNS, fmt, "nominals")  # type: ignore[arg-type]
    report = ImportReport(
        "nominals",
        ex.sha256,
        rows=ex.total,
        problems=list(ex.problems),
        dry_run=dry_run,
        started=started,
    )
    rows = [r for r in (_validate(n, row, report.problems) for n, row in ex.rows) if r]
    with platform.db.transaction() as session:  # reads only: nothing is written while planning
        plan = _plan(session, platform, rows, report)
    if dry_run or report.problems:
        return report.finish()
    _write(platform, plan, report, progress, chunk)
    with platform.db.transaction() as session:
        record_file(
            session,
            platform,
            ex.sha256,
            "OFFICIAL-SENSITIVE",
            {
                "kind": "nominals",
                "rows": report.rows,
                "created": report.created,
                "unchanged": report.unchanged,
                "cases": report.cases_created,
            },
        )
        faults.point("import.file.uncommitted")  # every row written, the file's entry not yet
    report.transactions += 1
    report.written = True
    return report.finish()


def _validate(number: int, row: dict[str, Value], problems: list[Problem]) -> _Row | None:
    found: list[Problem] = []

    def bad(column: str, why: str) -> None:
        found.append(Problem(number, column, why))

    given, family, aliases = _names(row, bad)
    dob = _date(row, "date_of_birth", bad)
    if dob is not None and dob > date.today():
        bad("date_of_birth", "in the future")
    ids = _identifiers(row, bad)
    system = text(row, "source_system").upper()
    if system and system not in SOURCE_AGENCY:
        bad("source_system", f"one of {', '.join(SOURCE_AGENCY)}")
    case = _case(row, bad)
    if found:
        problems.extend(found)
        return None
    return _Row(number, given, family, aliases, dob, ids, case)


def _names(row: dict[str, Value], bad) -> tuple[str, str, list[str]]:
    given, family = text(row, "given_name"), text(row, "family_name")
    if not given:
        bad("given_name", "required")
    if not family:
        bad("family_name", "required")
    for column, limit in (("given_name", 100), ("family_name", 100)):
        if len(text(row, column)) > limit:
            bad(column, f"longer than {limit} characters")
    aliases = formats.items(row, "aliases")
    if any(len(a) > 100 for a in aliases) or len(aliases) > 20:
        bad("aliases", "at most 20 aliases of up to 100 characters")
    return given, family, aliases


def _identifiers(row: dict[str, Value], bad) -> dict[str, str]:
    ids = {kind: text(row, kind) for kind in IDENTIFIERS if text(row, kind)}
    for kind, value in ids.items():
        if len(value) > 40 or not any(ch.isalnum() for ch in value):
            bad(kind, "not a plausible identifier")
    if not ids:
        bad(
            "identifiers",
            f"at least one identifier is required ({', '.join(IDENTIFIERS)}) to match on re-import",
        )
    return ids


def _date(row: dict[str, Value], column: str, bad) -> date | None:
    value = text(row, column)
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        bad(column, str(exc))
        return None


def _case(row: dict[str, Value], bad) -> dict[str, object] | None:
    reference = text(row, "case_reference")
    case_columns = [
        c
        for c in (
            "category",
            "phase",
            "lead_agency",
            "nsd_unit",
            "ct_unit",
            "establishment",
            "mappa_category",
            "mappa_level",
            *CASE_DATES,
        )
        if text(row, c)
    ]
    if not reference:
        if case_columns:
            bad(
                "case_reference",
                f"required when case columns are given ({', '.join(case_columns)})",
            )
        return None
    if len(reference) > 24:
        bad("case_reference", "longer than 24 characters")
    case: dict[str, object] = {"reference": reference}
    parsers = {
        "category": lambda v: CaseCategory.parse(v).value,
        "phase": lambda v: Phase.parse(v).value,
        "lead_agency": lambda v: Agency.parse(v).value,
        "mappa_category": lambda v: int(MappaCategory.parse(v)),
        "mappa_level": lambda v: int(MappaLevel.parse(v)),
    }
    for column, parse in parsers.items():
        value = text(row, column)
        if not value:
            if column in ("category", "phase", "lead_agency"):
                bad(column, "required for a case")
            continue
        try:
            case[column] = parse(value)
        except InvalidValue as exc:
            bad(column, str(exc))
    for column, allowed in (("nsd_unit", NSD_UNITS), ("ct_unit", CT_UNITS)):
        value = text(row, column)
        if value and value not in allowed:
            bad(column, f"one of {', '.join(allowed)}")
        case[column] = value or None
    establishment = text(row, "establishment")
    if len(establishment) > 120:
        bad("establishment", "longer than 120 characters")
    case["establishment"] = establishment or None
    for column in CASE_DATES:
        case[column] = _date(row, column, bad)
    return case


@dataclass
class _Plan:
    new: list[_Row]
    new_cases: list[
        tuple[uuid.UUID | None, _Row]
    ]  # existing nominal id (None: the new nominal of the row)


def _plan(session: Session, platform: Platform, rows: list[_Row], report: ImportReport) -> _Plan:
    indexer = platform.indexer
    known = _known_nominals(session, indexer, rows)
    cases = _known_cases(session, rows)
    plan = _Plan([], [])
    seen_ids: dict[bytes, int] = {}
    seen_refs: dict[str, int] = {}
    for row in rows:
        row_digests = [indexer.digest(kind, value) for kind, value in row.ids.items()]
        earlier = {seen_ids[d] for d in row_digests if d in seen_ids}
        if earlier:
            report.problems.append(
                Problem(
                    row.number, "identifiers", f"same person as row {min(earlier)} of this file"
                )
            )
            continue
        matches = {known[d] for d in row_digests if d in known}
        if len(matches) > 1:
            report.problems.append(
                Problem(row.number, "identifiers", "the identifiers match more than one nominal")
            )
            continue
        existing = next(iter(matches), None)
        for d in row_digests:
            seen_ids[d] = row.number
        if row.case and not _plan_case(row, existing, cases, seen_refs, plan, report):
            continue
        if existing is None:
            plan.new.append(row)
        else:
            report.unchanged += 1
    report.created = len(plan.new)
    report.cases_created = len(plan.new_cases)
    return plan


def _known_nominals(session: Session, indexer, rows: list[_Row]) -> dict[bytes, uuid.UUID]:
    """Nominals already held, by the blind-index digest of each identifier in the file."""
    values = sorted({indexer.digest(kind, value) for r in rows for kind, value in r.ids.items()})
    known: dict[bytes, uuid.UUID] = {}
    for start in range(0, len(values), BATCH):
        for nominal_id, digest in session.execute(
            select(NominalIndex.nominal_id, NominalIndex.digest).where(
                NominalIndex.kind.in_(IDENTIFIERS),
                NominalIndex.digest.in_(values[start : start + BATCH]),
            )
        ):
            known[digest] = nominal_id
    return known


def _known_cases(session: Session, rows: list[_Row]) -> dict[str, uuid.UUID]:
    """Cases already held, by reference: their nominal."""
    refs = sorted({str(r.case["reference"]) for r in rows if r.case})
    cases: dict[str, uuid.UUID] = {}
    for start in range(0, len(refs), BATCH):
        cases.update(
            session.execute(
                select(Case.reference, Case.nominal_id).where(
                    Case.reference.in_(refs[start : start + BATCH])
                )
            ).all()
        )
    return cases


def _plan_case(
    row: _Row,
    existing: uuid.UUID | None,
    cases: dict[str, uuid.UUID],
    seen_refs: dict[str, int],
    plan: _Plan,
    report: ImportReport,
) -> bool:
    """Plan the row's case; False (with the problem reported) when the row must be skipped."""
    assert row.case is not None
    reference = str(row.case["reference"])
    if reference in seen_refs:
        report.problems.append(
            Problem(row.number, "case_reference", f"also used by row {seen_refs[reference]}")
        )
        return False
    seen_refs[reference] = row.number
    holder = cases.get(reference)
    if holder is not None and holder != existing:
        report.problems.append(
            Problem(row.number, "case_reference", "already used for another nominal")
        )
        return False
    if holder is None:
        plan.new_cases.append((existing, row))
    return True


def _write(
    platform: Platform, plan: _Plan, report: ImportReport, progress: Progress, size: int
) -> None:
    """New nominals with their new cases, a chunk per transaction; then new cases of nominals
    already held. A re-run after a failure matches what was written and plans only the rest."""
    with_case = {row.number for existing, row in plan.new_cases if existing is None}
    for_existing = [(existing, row) for existing, row in plan.new_cases if existing is not None]
    total = len(plan.new) + len(for_existing)
    done = 0
    sqlite = platform.db.is_sqlite
    for batch, _ in paced(plan.new, size, sqlite=sqlite):
        if not batch:
            break
        cases = [row for row in batch if row.number in with_case]
        with chunk_of(report, done), platform.db.transaction() as session:
            ids = _write_nominals(session, platform, batch, report.file_sha256)
            _write_cases(session, platform, [(ids[r.number], r) for r in cases], report)
            before_commit()
        done += len(batch)
        progress(done, total)
    for batch_cases, _ in paced(for_existing, size, sqlite=sqlite):
        if not batch_cases:
            break
        with chunk_of(report, len(plan.new)), platform.db.transaction() as session:
            _write_cases(session, platform, batch_cases, report)
            before_commit()
        done += len(batch_cases)
        progress(done, total)


def _write_nominals(
    session: Session, platform: Platform, batch: Sequence[_Row], file_sha256: str
) -> dict[int, uuid.UUID]:
    writer, indexer = platform.system_writer, platform.indexer
    ids: dict[int, uuid.UUID] = {}
    nominal_rows: list[dict[str, object]] = []
    plains: list[dict[str, str | None]] = []
    index_rows: list[dict[str, object]] = []
    token_rows: list[dict[str, object]] = []
    now = utcnow()
    for row in batch:
        nid = uuid.uuid4()
        ids[row.number] = nid
        nominal_rows.append(
            {"id": nid, "classification": "OFFICIAL-SENSITIVE", "caveats": "", "created_at": now}
        )
        plains.append(
            {
                "names": json.dumps(
                    {"given": row.given, "family": row.family, "aliases": row.aliases}
                ),
                "dob": row.dob.isoformat() if row.dob else None,
                "identifiers": json.dumps(row.ids, sort_keys=True),
            }
        )
        index_rows += [
            {"nominal_id": nid, "kind": kind, "digest": indexer.digest(kind, value)}
            for kind, value in index_terms(row.given, row.family, row.aliases, row.ids)
        ]
        token_rows += [  # partial and sound-alike search, as cases.services.add_nominal writes
            {"nominal_id": nid, "kind": kind, "digest": indexer.digest(kind, value)}
            for kind, value in sorted(token_terms(row.given, row.family, row.aliases, row.dob))
        ]
    keys = writer.seal_bulk(
        session,
        Nominal,
        nominal_rows,
        plains,
        Event(
            action="import.nominals",
            object_type="nominal",
            outcome="done",
            label=Classification.OFFICIAL_SENSITIVE,
            detail={"file": file_sha256, "ids": [str(r["id"]) for r in nominal_rows]},
        ),
    )
    session.execute(insert(DataKey), keys)
    session.execute(insert(Nominal), nominal_rows)
    session.execute(insert(NominalIndex), index_rows)
    if token_rows:
        session.execute(insert(NominalToken), token_rows)
    return ids


def _write_cases(
    session: Session,
    platform: Platform,
    batch: Sequence[tuple[uuid.UUID, _Row]],
    report: ImportReport,
) -> None:
    if not batch:
        return
    now = utcnow()
    case_rows = []
    for nominal_id, row in batch:
        case = dict(row.case or {})
        case_rows.append(
            {
                "id": uuid.uuid4(),
                "nominal_id": nominal_id,
                "created_at": now,
                "mappa_category": case.pop("mappa_category", 4),
                "mappa_level": case.pop("mappa_level", 3),
                **case,
            }
        )
    platform.system_writer.stamp_bulk(session, Case, case_rows)
    session.execute(insert(Case), case_rows)
    platform.system_writer.record(
        session,
        Event(
            action="import.cases",
            object_type="case",
            outcome="done",
            label=Classification.OFFICIAL_SENSITIVE,
            detail={
                "file": report.file_sha256,
                "references": [str(c["reference"]) for c in case_rows],
            },
        ),
    )
