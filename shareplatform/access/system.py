"""Writing as the platform itself, with no user decision: imports, demo seeding, generated data.

A capability built by the composition root (shareplatform/platform.py) and handed to the command
line, the importer and demo seeding only. Services receive the access layer through their context
and never this, so no service writes as the system because an argument was left out. Every write
is audited as "system" before anything is sealed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from ..audit.log import AuditLog, Event
from ..audit.models import AuditEntry
from ..crypto.attested import attested_columns, attested_models, attestor_of
from ..crypto.sealed import Sealed
from ..domain.errors import NotPermitted
from ..domain.labels import Classification
from .sealing import Plain, Sealer

SYSTEM_READS_UP_TO = Classification.OFFICIAL_SENSITIVE


class SystemWriter:
    def __init__(self, sealer: Sealer, audit: AuditLog) -> None:
        self._sealer = sealer
        self._audit = audit

    def record(self, session: Session, event: Event) -> int:
        """An audit entry by the system (imports, seeding, key operations)."""
        return self._audit.append(session, None, "system", event)

    def seal(self, session: Session, row: Sealed, plaintext: Plain, event: Event) -> Sealed:
        """Seal one row under a new data key and add it to the session; one audit entry."""
        seq = self.record(session, event)
        self._sealer.seal_rows(session, "system", [(row, plaintext)], seq)
        return row

    def seal_many(
        self, session: Session, items: Iterable[tuple[Sealed, Plain]], event: Event
    ) -> int:
        """Seal several rows; one audit entry for the batch."""
        batch = list(items)
        seq = self.record(session, _counted(event, len(batch)))
        self._sealer.seal_rows(session, "system", batch, seq)
        return len(batch)

    def open_many(
        self, session: Session, rows: Sequence[Sealed], event: Event
    ) -> list[Plain | None]:
        """Open rows as the system, for operator commands that must read sealed content (the
        search-token back-fill): one audit entry for the batch, written before anything opens.
        None for a row whose content does not open (tampered). Never above OFFICIAL-SENSITIVE:
        an operator acting alone reaches no SECRET this way (docs/architecture.md)."""
        above = [r for r in rows if Classification.parse(r.classification) > SYSTEM_READS_UP_TO]
        if above:
            raise NotPermitted(f"the system opens nothing above {SYSTEM_READS_UP_TO.marking}")
        seq = self.record(session, _counted(event, len(rows)))
        return self._sealer.open(session, "system", rows, seq)

    def seal_bulk(
        self,
        session: Session,
        model: type[Any],
        rows: list[dict[str, object]],
        plaintexts: list[Plain],
        event: Event,
    ) -> list[dict[str, object]]:
        """Seal row dicts for a Core bulk insert (imports, generated data): one audit entry.

        Fills each row's sealed columns and data_key_id; returns the data key rows to insert first.
        """
        seq = self.record(session, _counted(event, len(rows)))
        keys = self._sealer.seal_bulk(session, "system", model, rows, plaintexts, seq)
        self.stamp_bulk(session, model, rows)  # after sealing: the stamp covers data_key_id
        return keys

    def stamp_bulk(self, session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
        """Stamp the facts of row dicts for a Core bulk insert of an attested table. Rows that
        carry every fact column (None where defaulted) are stamped without a default lookup."""
        stamp = attestor_of(session).stamp
        for row in rows:
            stamp(model, row)

    def adopt_facts(self, session: Session) -> int | None:
        """Stamp every row written before facts were attested, once in the life of the database
        (the audit entry `facts.adopt` is the record that it happened; later runs do nothing, so
        rows whose stamp was removed are never re-stamped). Returns the rows stamped, or None."""
        done = select(AuditEntry.seq).where(AuditEntry.action == "facts.adopt").limit(1)
        if session.scalar(done) is not None:
            return None
        attestor = attestor_of(session)
        counts: dict[str, int] = {}
        for model in attested_models():
            table = model.__table__
            key = [table.c[c.key] for c in inspect(model).primary_key]
            rows = session.execute(
                select(*(table.c[name] for name in attested_columns(model))).where(
                    table.c.facts_mac.is_(None)
                )
            ).mappings()
            for row in list(rows):
                session.execute(
                    update(table)
                    .where(*(col == row[col.key] for col in key))
                    .values(facts_mac=attestor.mac(model, row))
                )
                counts[table.name] = counts.get(table.name, 0) + 1
        self.record(
            session,
            Event(action="facts.adopt", object_type="facts", outcome="done", detail={**counts}),
        )
        return sum(counts.values())

    def adopt_widened(
        self, session: Session, action: str, model: type[Any], added: tuple[str, ...]
    ) -> int | None:
        """Stamp again the rows of `model` whose stamp predates `added` joining its facts, once
        in the life of the database (the audit entry `action` records it; later runs do
        nothing, so a stamp forged afterwards is never laundered). Only rows whose old stamp
        still verifies: one forged before the adoption stays unverified. Returns how many, or
        None when it had run before."""
        if session.scalar(select(AuditEntry.seq).where(AuditEntry.action == action).limit(1)):
            return None
        attestor = attestor_of(session)
        table = model.__table__
        names = attested_columns(model)
        legacy = [n for n in names if n not in added]
        rows = session.execute(select(*(table.c[n] for n in names), table.c.facts_mac))
        stamped = 0
        for row in rows.mappings().all():
            old = [row[n] for n in legacy]
            if attestor.intact(model, row) or not attestor.check_values(
                model, old, row["facts_mac"]
            ):
                continue
            mac = attestor.mac(model, row)
            session.execute(update(table).where(table.c.id == row["id"]).values(facts_mac=mac))
            stamped += 1
        detail = {"table": table.name, "stamped": stamped}
        self.record(
            session, Event(action=action, object_type="facts", outcome="done", detail=detail)
        )
        return stamped


def _counted(event: Event, count: int) -> Event:
    return Event(
        action=event.action,
        object_type=event.object_type,
        outcome=event.outcome,
        label=event.label,
        object_id=event.object_id,
        case_id=event.case_id,
        reason=event.reason,
        detail={**event.detail, "count": count},
    )
