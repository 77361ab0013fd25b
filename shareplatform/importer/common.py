"""What every import shares: source systems, the report, progress and the file-level audit entry."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ..audit.log import Event
from ..domain.labels import Classification
from ..platform import Platform
from .formats import Problem

# Where each export comes from, and whose record it is by default.
SOURCE_AGENCY = {"VISOR": "CTNM", "NDELIUS": "NSD", "NOMIS": "PRISON"}
BATCH = 500

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
