"""What every import shares: source systems, the report, progress, chunked writing and the
file-level audit entry.

An import validates and plans the whole file first (nothing is written if any row is bad), then
writes the new rows in chunks of at most CHUNK rows (`paced`), each chunk its own short transaction
with its own audit entry, so other users' writes interleave with a large import instead of
waiting for it.
Every written row is matched on re-import (blind index), so a chunked write is resumable: after a
failure half-way, running the same file again writes only the rows still missing.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar, cast

from sqlalchemy.orm import Session

from .. import faults
from ..audit.log import Event
from ..domain.labels import Classification
from ..platform import Platform
from .formats import Problem

# Where each export comes from, and whose record it is by default.
SOURCE_AGENCY = {"VISOR": "CTNM", "NDELIUS": "NSD", "NOMIS": "PRISON"}
BATCH = 2000  # values per IN (...) lookup while planning
CHUNK = 2000  # rows written per transaction: short enough for other writers to interleave

Progress = Callable[[int, int], None]  # (rows done, rows in the file)


@dataclass
class ImportReport:
    kind: str
    file_sha256: str = ""
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    cases_created: int = 0
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False
    transactions: int = 0  # write transactions committed (one per chunk, then the file's entry)
    elapsed: float = 0.0
    started: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    def finish(self) -> ImportReport:
        self.elapsed = time.perf_counter() - self.started
        self.problems.sort()
        return self

    def summary(self) -> str:
        mode = (
            "dry run: nothing written"
            if self.dry_run
            else ("written" if self.written else "refused: nothing written")
        )
        lines = [
            f"{self.kind} import ({mode}): {self.rows} rows; {self.created} new, "
            f"{self.unchanged} already present"
            + (f"; {self.cases_created} cases opened" if self.kind == "nominals" else "")
            + f"; {len(self.problems)} problems; {self.elapsed:.2f} s "
            f"({self.rows_per_second:.0f} rows/s)"
        ]
        if self.problems:
            lines += ["", "Problems (row 0 is the file or its header; data rows count from 1):"]
            lines += [p.line() for p in self.problems]
        return "\n".join(lines)


def no_progress(done: int, total: int) -> None:
    return None


class Rollback(Exception):
    """Leave the import's transaction without writing anything (a dry run, or problems found)."""


class ImportInterrupted(Exception):
    """A write failed after earlier chunks had committed. Running the same file again finishes
    the import: the rows already written are matched and left unchanged."""

    def __init__(self, report: ImportReport, cause: BaseException) -> None:
        self.report = report
        super().__init__(
            f"{report.kind} import interrupted after {report.created} new rows were written "
            f"({type(cause).__name__}: {cause}); run the same file again to finish it"
        )


T = TypeVar("T")
P = ParamSpec("P")


@contextmanager
def chunk_of(report: ImportReport, committed: int) -> Iterator[None]:
    """Around one chunk's transaction: a failure is reported as an interrupted import, with the
    rows of the chunks committed before it (a re-run finishes it); a fault point follows each
    commit (and `before_commit` precedes it)."""
    try:
        yield
    except Exception as exc:
        report.created = committed
        raise ImportInterrupted(report.finish(), exc) from exc
    report.transactions += 1
    faults.point("import.chunk")


def before_commit() -> None:
    """A chunk's rows are written but not committed: a crash here must leave nothing of it."""
    faults.point("import.chunk.uncommitted")


# SQLite has one writer for the whole file, and its busy handler (the `timeout` of
# shareplatform/db.py) retries a waiting writer at most every 100 ms: an import committing chunk
# after chunk would take the lock back before any waiting request retried. So on SQLite a chunk
# holds the lock about CHUNK_SECONDS, then the import lets it go for as long as the chunk held it,
# up to YIELD_SECONDS (longer than that retry interval): about half the time each, which keeps
# other users' p99 near its quiet value (docs/benchmarks.md, measure 9; 0.25 s chunks gave 1.8-2.3x
# at twice the import's speed). PostgreSQL queues writers on its locks and
# the audit head is taken only at commit (shareplatform/audit/log.py), so chunks there go back to
# back.
CHUNK_SECONDS = 0.12
YIELD_SECONDS = 0.12


IMPORT_NICENESS = 10


def yield_cpu_to_requests() -> None:
    """An import is batch work: it runs below the request workers' CPU priority (nice 10), so on a
    busy host the people using the service are served first."""
    os.nice(IMPORT_NICENESS)


def paced(items: Sequence[T], size: int, *, sqlite: bool) -> Iterator[tuple[Sequence[T], bool]]:
    """(chunk, is_last) for the write loop, the caller committing each chunk before asking for
    the next. At most `size` rows a chunk; on SQLite sized to about CHUNK_SECONDS of writing
    (from the rate of the chunks before it) and followed by a pause for other writers."""
    start, rows = 0, min(size, 200) if sqlite else size
    while True:
        chunk = items[start : start + rows]
        start += len(chunk)
        began = time.perf_counter()
        yield chunk, start >= len(items)
        if start >= len(items):
            return
        if sqlite:
            held = max(time.perf_counter() - began, 1e-3)
            rows = max(1, min(size, int(len(chunk) / held * CHUNK_SECONDS)))
            # a request that waited `held` retries at most that long after (the busy handler's
            # back-off grows with the wait), so a pause as long, up to YIELD_SECONDS, lets it in
            time.sleep(min(YIELD_SECONDS, held))


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def memo(parse: Callable[P, T]) -> Callable[P, T]:
    """Remember a pure parse of short values (a type, an agency, a label, a date): an extract
    repeats the same few on every row. Errors are not remembered: they are raised every time."""
    return cast(Callable[P, T], functools.lru_cache(maxsize=4096)(parse))


def record_file(
    session: Session, platform: Platform, sha256: str, label: str, detail: dict[str, object]
) -> None:
    """The one audit entry for a whole imported file (the platform, not a user, writes it)."""
    platform.system_writer.record(
        session,
        Event(
            action="import.file",
            object_type="import",
            outcome="done",
            label=Classification.parse(label),
            object_id=sha256[:64],
            detail=detail,
        ),
    )
