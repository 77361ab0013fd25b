"""Import throughput for benchmarks: rows per second to validate, to import, to re-import.

    from benchmarks.import_throughput import measure
    measure(platform, records=20_000, author="com.cole")   # writes into that platform's database

A synthetic extract (one new nominal and case, then N records on it) goes through exactly the
path `flask --app wsgi import` takes: parse, validate, match, seal in bulk, insert, audit.
"""

from __future__ import annotations

import json
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


def measure(platform: Platform, records: int = 5000, author: str = "com.cole") -> Throughput:
    run = uuid.uuid4().hex[:8].upper()
    nominal = [
        {
            "given_name": "Bench",
            "family_name": f"Mark{run}",
            "crn": f"B{run}",
            "case_reference": f"BEN-{run}",
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
    labels = ("OFFICIAL", "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE", "SECRET")
    rows = [
        {
            "source_system": "NDELIUS",
            "source_id": f"{run}-{k}",
            "case_reference": f"BEN-{run}",
            "record_type": "CONTACT_OFFICE",
            "occurred_on": "2024-01-01",
            "classification": labels[k % 4],
            "caveats": "ORCON" if k % 11 == 0 else "",
            "title": f"Benchmark contact {k}",
            "body": "Attended; discussed employment, accommodation and licence conditions. " * 3,
        }
        for k in range(records)
    ]
    raw = json.dumps(rows).encode()

    def once(dry_run: bool) -> float:
        result = rec.import_records(
            platform,
            author=author,
            dry_run=dry_run,
            extract=formats.parse(raw, rec.COLUMNS, "json"),
        )
        if not result.ok:
            raise RuntimeError(result.summary())
        return result.rows_per_second

    return Throughput(records, once(True), once(False), once(False))
