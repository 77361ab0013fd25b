"""Import throughput for benchmarks: rows per second to validate, to import, to re-import.

    from benchmarks.import_throughput import measure
    measure(platform, records=20_000, author="com.cole")   # writes into that platform's database

A synthetic extract (one new nominal and case, then N records on it) goes through exactly the
path `flask --app wsgi import` takes, timed from the file's bytes: parse, validate, match, seal in
bulk, insert (in chunks, a transaction each), audit.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from shareplatform.importer import formats
from shareplatform.importer import nominals as nom
from shareplatform.importer import records as rec
from shareplatform.platform import Platform


@dataclass(frozen=True)
class Throughput:
    records: int
    dry_run_rows_per_second: float
    import_rows_per_second: float
    reimport_rows_per_second: float  # everything already present: matching cost only

    def __str__(self) -> str:
        return (
            f"import of {self.records} records: "
            f"validate {self.dry_run_rows_per_second:.0f} rows/s, "
            f"write {self.import_rows_per_second:.0f} rows/s, "
            f"re-import {self.reimport_rows_per_second:.0f} rows/s"
        )


class ImportRun:
    """One bench nominal and case (imported through the importer), then extracts of `records`
    rows on that case, each with source ids of its own so that every `write` imports new rows.
    Each call times the whole path from the file's bytes: parse, validate, match, seal, insert,
    audit."""

    def __init__(self, platform: Platform, records: int, author: str) -> None:
        self.platform, self.records, self.author = platform, records, author
        self.run = uuid.uuid4().hex[:8].upper()
        self.files = 0
        nominal = [
            {
                "given_name": "Bench",
                "family_name": f"Mark{self.run}",
                "crn": f"B{self.run}",
                "case_reference": f"BEN-{self.run}",
                "category": "TERRORIST",
                "phase": "COMMUNITY",
                "lead_agency": "NSD",
                "nsd_unit": "North",
            }
        ]
        report = nom.import_nominals(
            platform, extract=formats.parse(json.dumps(nominal).encode(), nom.COLUMNS, "json")
        )
        if not report.ok:
            raise RuntimeError(report.summary())

    def new_file(self) -> bytes:
        """A fresh extract (built outside any timing)."""
        self.files += 1
        labels = ("OFFICIAL", "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE", "SECRET")
        rows = [
            {
                "source_system": "NDELIUS",
                "source_id": f"{self.run}-{self.files:04d}-{k:07d}",  # unique once normalised
                "case_reference": f"BEN-{self.run}",
                "record_type": "CONTACT_OFFICE",
                "occurred_on": "2024-01-01",
                "classification": labels[k % 4],
                "caveats": "ORCON" if k % 11 == 0 else "",
                "title": f"Benchmark contact {k}",
                "body": "Attended; discussed employment, accommodation and licence conditions. "
                * 3,
            }
            for k in range(self.records)
        ]
        return json.dumps(rows).encode()

    def once(self, raw: bytes, dry_run: bool = False) -> float:
        """Seconds to import `raw` from its bytes."""
        started = time.perf_counter()
        result = rec.import_records(
            self.platform,
            author=self.author,
            dry_run=dry_run,
            extract=formats.parse(raw, rec.COLUMNS, "json"),
        )
        elapsed = time.perf_counter() - started
        if not result.ok:
            raise RuntimeError(result.summary())
        return elapsed


def measure(platform: Platform, records: int = 5000, author: str = "com.cole") -> Throughput:
    run = ImportRun(platform, records, author)
    raw = run.new_file()
    dry, write, again = run.once(raw, True), run.once(raw), run.once(raw)
    return Throughput(records, records / dry, records / write, records / again)
