"""Is anything half-written? Queries the tables after a fault.

A record is whole when it has its data key (records.data_key_id -> data_keys), at least one
attendee (written in the same transaction: shareplatform/records/services.py) and an audit
entry that names it: `record.create` / `record.correct` by object_id, or a batch entry
(`import.records`) listing it in detail["ids"]. The other way round, every such entry must name
records that exist, and every data key must belong to a row of some sealed table (every table
with a data_key_id column: shareplatform/crypto/sealed.py).

Audit object ids are text while record ids are UUID columns (stored differently per backend), so
the audit side is matched in Python, after parsing both as UUIDs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Table, exists, select, union_all
from sqlalchemy.orm import Session

import shareplatform.models  # noqa: F401  (every feature's tables, for the sealed ones)
from shareplatform.audit.models import AuditEntry
from shareplatform.crypto.models import DataKey
from shareplatform.db import Base
from shareplatform.records.models import Record, RecordAttendee

SINGLE = ("record.create", "record.correct")  # entries naming one record in object_id
BATCH = ("import.records",)  # entries listing their records in detail["ids"]


@dataclass
class Integrity:
    records: int = 0
    without_key: list[uuid.UUID] = field(default_factory=list)
    without_attendee: list[uuid.UUID] = field(default_factory=list)
    without_audit: list[uuid.UUID] = field(default_factory=list)
    audit_without_record: list[uuid.UUID] = field(default_factory=list)
    orphan_keys: list[uuid.UUID] = field(default_factory=list)

    @property
    def half_written(self) -> int:
        return sum(
            len(x)
            for x in (
                self.without_key,
                self.without_attendee,
                self.without_audit,
                self.audit_without_record,
                self.orphan_keys,
            )
        )

    def problems(self) -> dict[str, list[str]]:
        return {
            name: [str(i) for i in ids[:5]]
            for name, ids in vars(self).items()
            if isinstance(ids, list) and ids
        }


def record_ids(session: Session) -> set[uuid.UUID]:
    """The records present now (take before a test's load: `check(..., exempt=...)`)."""
    return set(session.scalars(select(Record.id)))


def check(session: Session, exempt: Iterable[uuid.UUID] = ()) -> Integrity:
    """Every record whole, every record entry and data key accounted for. `exempt`: records
    written before the test by builders whose batch entry lists no ids."""
    skip = set(exempt)
    present = record_ids(session)
    out = Integrity(records=len(present - skip))
    out.without_key = list(
        session.scalars(select(Record.id).where(~exists().where(DataKey.id == Record.data_key_id)))
    )
    out.without_attendee = [
        rid
        for rid in session.scalars(
            select(Record.id).where(~exists().where(RecordAttendee.record_id == Record.id))
        )
        if rid not in skip
    ]
    described = _described(session)
    out.without_audit = sorted(present - skip - described)
    out.audit_without_record = sorted(described - present)
    out.orphan_keys = list(session.scalars(select(DataKey.id).where(DataKey.id.not_in(_used()))))
    return out


def _described(session: Session) -> set[uuid.UUID]:
    """Records named by the audit log's creation entries (committed entries only, so a record
    without one was written without its entry)."""
    found: set[uuid.UUID] = set()
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.object_id, AuditEntry.detail).where(
            AuditEntry.action.in_(SINGLE + BATCH), AuditEntry.outcome == "done"
        )
    )
    for action, object_id, detail in rows:
        if action in SINGLE:
            found.add(uuid.UUID(object_id))
        else:
            found.update(uuid.UUID(i) for i in json.loads(detail).get("ids", []))
    return found


def _used():  # type: ignore[no-untyped-def]
    """Every data key id some sealed row refers to."""
    sealed = [
        t for t in Base.metadata.sorted_tables if "data_key_id" in t.c and isinstance(t, Table)
    ]
    return union_all(*(select(t.c.data_key_id) for t in sealed))


RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "faults.json"


def report(fault: str, **figures: object) -> str:
    """Print the fault's summary line and append its figures to test-results/faults.json (a JSON
    list, one object per fault run) so that they can be quoted."""
    line = f"[{fault}] " + ", ".join(f"{k} {v}" for k, v in figures.items())
    print("\n" + line)
    RESULTS.parent.mkdir(exist_ok=True)
    try:
        runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    except ValueError:  # a run killed while writing: start again rather than fail the test
        runs = []
    runs.append({"fault": fault, "at": datetime.now(UTC).isoformat(), **figures})
    RESULTS.write_text(json.dumps(runs, indent=1, default=str) + "\n")
    return line
