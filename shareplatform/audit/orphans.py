"""Append-only objects without the audit entry that created them.

Every append-only object the application writes is audited as it is created (the access layer
writes the entry, then seals: shareplatform/access/kernel.py `write`). A row inserted straight
into the database, by someone without the keys, has no such entry: the hash chain still verifies,
so `audit verify` looks for every object's creation entry, one query per kind (an anti-join on the
entries' object index), and names each row that has none.

`CREATED` is the one table of kinds. The kernel imports no feature, so tables and columns are
named as text; tests/security/test_orphan_objects.py checks every name against the models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from .models import AuditEntry


@dataclass(frozen=True)
class Created:
    """Rows of `table` are created by an entry with one of `actions`, outcome "done", whose
    object_id is the row's `named_by` column. `by_id`: the entry also holds the row's own id in
    its detail (written by the access layer), so several rows per object (status steps) are told
    apart. `batches`: system entries that list the rows they created in detail["ids"].
    `unnamed`: the object type of system batch entries that only count their rows (generated and
    test data): so many rows may go unnamed, and no more."""

    kind: str
    table: str
    actions: tuple[str, ...]
    named_by: str = "id"
    by_id: bool = True
    batches: tuple[str, ...] = ()
    unnamed: str = ""


CREATED: tuple[Created, ...] = (
    Created("meeting", "mappa_meetings", ("mappa.meeting.record",)),
    Created("meeting closed part", "mappa_closed_parts", ("mappa.meeting.closed",), "meeting_id"),
    Created(
        "meeting correction or withdrawal",
        "mappa_meeting_supersessions",
        ("mappa.meeting.correct", "mappa.meeting.withdraw"),
        "meeting_id",
    ),
    Created("disclosure", "mappa_disclosures", ("mappa.disclosure.record",)),
    Created("decision or correction", "mappa_decisions", ("mappa.decision.record",)),
    Created("action", "mappa_actions", ("mappa.action.record",)),
    Created("action status change", "mappa_action_status", ("mappa.action.status",), "action_id"),
    Created("break-out", "mappa_breakouts", ("mappa.breakout.release",)),
    Created(
        "licence condition", "licence_conditions", ("licence.write", "licence.vary", "licence.end")
    ),
    Created(
        "record",
        "records",
        ("record.create", "record.correct"),
        by_id=False,  # demo seeding writes records as the system, whose entries name no row id
        batches=("import.records",),
        unnamed="record",
    ),
)

_LOG = AuditEntry.__tablename__

# a UUID column as text shaped like str(UUID), as audit object ids hold it; the detail's "id";
# the ids a batch entry lists
_SQL = {
    "sqlite": {
        "uuid": "substr({c}, 1, 8) || '-' || substr({c}, 9, 4) || '-' || substr({c}, 13, 4) "
        "|| '-' || substr({c}, 17, 4) || '-' || substr({c}, 21, 12)",
        "detail_id": "json_extract(a.detail, '$.id')",
        "listed": "SELECT j.value FROM {log} a, json_each(a.detail, '$.ids') j "
        "WHERE a.action IN ({actions}) AND a.outcome = 'done'",
    },
    "postgresql": {
        "uuid": "CAST({c} AS TEXT)",
        "detail_id": "(CAST(a.detail AS JSONB) ->> 'id')",
        "listed": "SELECT jsonb_array_elements_text(CAST(a.detail AS JSONB) -> 'ids') "
        "FROM {log} a "
        "WHERE a.action IN ({actions}) AND a.outcome = 'done'",
    },
}


@dataclass(frozen=True)
class Orphan:
    kind: str
    table: str
    id: str

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.id} ({self.table}) has no audit entry: it was written outside "
            "the application"
        )


def find(session: Session) -> tuple[list[Orphan], list[str]]:
    """Every row of every kind in `CREATED` without its creation entry; and notes."""
    dialect = session.get_bind().dialect.name
    sql = _SQL.get(dialect)
    if sql is None:
        return [], [f"objects are not cross-checked against the log on {dialect}"]
    orphans: list[Orphan] = []
    notes: list[str] = []
    for kind in CREATED:
        ids = list(session.execute(text(_unaudited_sql(kind, sql))).scalars())
        if ids and kind.unnamed:
            ids, note = _allow_unnamed(session, kind, ids)
            notes += note
        orphans += (Orphan(kind.kind, kind.table, i) for i in ids)
    return orphans, notes


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(f"'{n}'" for n in names)  # this module's constants, never input


def _unaudited_sql(kind: Created, sql: dict[str, str]) -> str:
    row_id, named = sql["uuid"].format(c="t.id"), sql["uuid"].format(c=f"t.{kind.named_by}")
    match = (
        f"a.object_id = {named} AND a.action IN ({_quoted(kind.actions)}) AND a.outcome = 'done'"
    )
    if kind.by_id:
        match += f" AND {sql['detail_id']} = {row_id}"
    where = f"NOT EXISTS (SELECT 1 FROM {_LOG} a WHERE {match})"  # noqa: S608
    if kind.batches:
        listed = sql["listed"].format(log=_LOG, actions=_quoted(kind.batches))
        where += f" AND {row_id} NOT IN ({listed})"
    return f"SELECT {row_id} FROM {kind.table} t WHERE {where} ORDER BY t.id"  # noqa: S608


def _allow_unnamed(session: Session, kind: Created, ids: list[str]) -> tuple[list[str], list[str]]:
    """Rows no entry names, against the rows the system's counting batch entries created. Run
    only when some row is unnamed: it reads every system entry of the kind's object type."""
    stmt = text(
        f"SELECT detail FROM {_LOG} WHERE object_type = :type AND actor_id IS NULL "  # noqa: S608
        f"AND outcome = 'done' AND action NOT IN ({_quoted(kind.actions + kind.batches)})"
    )
    counted = sum(_unnamed_count(d) for d in session.scalars(stmt, {"type": kind.unnamed}))
    if len(ids) <= counted:
        return [], [
            f"{len(ids)} {kind.kind} rows were written by system batch entries that count their "
            "rows without naming them (generated or test data): not matched one by one"
        ]
    return ids, [
        f"{len(ids)} {kind.kind} rows have no audit entry naming them; system batch entries "
        f"that count without naming account for only {counted} of them"
    ]


def _unnamed_count(detail: str) -> int:
    values = json.loads(detail)
    if "ids" in values:
        return 0
    count = values.get("count", 0)
    return count if isinstance(count, int) else 0


def tables() -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each kind's table and the columns named here, for the check against the models."""
    for kind in CREATED:
        yield kind.table, ("id", kind.named_by)
