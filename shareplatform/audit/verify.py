"""Verification of the audit log: the Merkle tree recomputed over every entry's body, every
signed checkpoint, the head, the display columns, the witness held outside the database, and
every append-only object's creation entry (shareplatform/audit/orphans.py).

Consecutive checkpoints are consistent because each root is recomputed from the same sequence of
bodies: the tree at a later size extends the tree at an earlier one (RFC 9162 2.1.4). Incremental
verification (`from_size`) starts from a stored checkpoint's frontier, once it hashes to the
checkpoint's signed root; what lies before it was verified by an earlier run.
"""

from __future__ import annotations

import bisect
import itertools
import json
import operator
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain as ichain
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import chain, merkle, orphans, witness
from .checkpoints import Checkpoint
from .log import as_checkpoint, shown_in
from .models import AuditCheckpoint, AuditEntry, AuditHead, AuditView


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int  # entries hashed by this run
    checkpoints: int  # signed checkpoints checked
    first_broken: int | None = None
    problem: str = ""  # the first problem; `problems` has them all, in order of entry
    problems: tuple[str, ...] = ()
    size: int = 0  # the tree's size
    root: bytes = merkle.EMPTY_ROOT
    witnessed: int = 0  # the largest size the witness saw (0: no witness, or none yet)
    notes: tuple[str, ...] = ()
    orphans: tuple[str, ...] = ()  # objects without their creation entry (also in `problems`)


@dataclass
class _Findings:
    found: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    def add(self, seq: int, problem: str) -> None:
        self.found.append((seq, problem))


_COLUMNS = (
    AuditEntry.at,
    AuditEntry.actor_id,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.object_type,
    AuditEntry.object_id,
    AuditEntry.case_id,
    AuditEntry.label,
    AuditEntry.outcome,
    AuditEntry.reason,
    AuditEntry.detail,
)


def verify(
    session: Session,
    public_key: bytes,
    batch: int = 5000,
    *,
    witness_path: str | Path | None = None,
    from_size: int = 0,
    columns: bool = True,
) -> VerifyResult:
    f = _Findings()
    rows = session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.seq >= from_size)
        .order_by(AuditCheckpoint.seq)
    ).all()
    stored = {row.seq: row for row in rows}
    witnessed = _read_witness(witness_path, public_key, f)
    frontier: list[bytes] = []
    if from_size:
        start = stored.get(from_size)
        if start is None:
            return _result(f, 0, 0, 0, [], 0, f"there is no stored checkpoint at {from_size}")
        frontier = _starting_frontier(start, public_key, f)
        if f.found:
            return _result(f, 0, 0, 0, [], 0)
    tree = _Tree(from_size, frontier, stored)
    # the sizes at which a root is needed: every stored and every witnessed checkpoint
    tree.wanted = {s for s in stored if s > from_size} | {
        c.size for c in witnessed if c.size > from_size
    }
    # the driver's own cursor, in large batches: SQLAlchemy's rows cost more than the hashing
    with _batches(session, _entries_sql(session, from_size, columns), batch) as batches:
        gap = tree.hash_batches(batches, session if columns else None, f)
    size = tree.size
    checked = _check_stored(stored, public_key, from_size, None if gap else size, f)
    if not gap:
        _check_head(session, size, tree.frontier, f)
        _check_witnessed(witnessed, stored, tree.roots, size, from_size, f)
    if columns:  # both rely on the columns, just checked against the bodies
        _check_views(session, from_size, batch, f)
        _check_objects(session, f)
    witnessed_size = max((c.size for c in witnessed), default=0)
    return _result(f, size - from_size, checked, size, tree.frontier, witnessed_size)


def _starting_frontier(start: AuditCheckpoint, public_key: bytes, f: _Findings) -> list[bytes]:
    frontier = merkle.unpack(start.frontier)
    if not as_checkpoint(start).signed_by(public_key):
        f.add(start.seq, f"checkpoint at {start.seq} has an invalid signature")
    elif not merkle.frontier_fits(frontier, start.seq) or (
        merkle.frontier_root(frontier) != start.root
    ):
        f.add(start.seq, f"checkpoint at {start.seq}: its frontier does not hash to its root")
    return frontier


# the display columns as the body holds them, rendered by the database ("at" as chain.timestamp,
# "actor_id" as str(UUID)); a value of another shape renders NULL and goes to the exact check
_RENDERED = {
    "sqlite": (
        "CASE WHEN length(at) = 26 AND substr(at, 11, 1) = ' ' "
        "THEN substr(at, 1, 10) || 'T' || substr(at, 12) || 'Z' END",
        "CASE WHEN actor_id IS NULL THEN '' WHEN length(actor_id) = 32 THEN substr(actor_id, 1, 8) "
        "|| '-' || substr(actor_id, 9, 4) || '-' || substr(actor_id, 13, 4) || '-' "
        "|| substr(actor_id, 17, 4) || '-' || substr(actor_id, 21, 12) END",
    ),
    "postgresql": (
        """to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
        "coalesce(actor_id::text, '')",
    ),
}
_PLAIN_COLUMNS = tuple(c.key for c in _COLUMNS[2:])  # actor .. detail, compared as stored


def _entries_sql(session: Session, from_size: int, columns: bool) -> str:
    names = ["seq", "body"]
    if columns:
        dialect = session.get_bind().dialect.name
        names += [*_RENDERED.get(dialect, ("at", "actor_id")), *_PLAIN_COLUMNS]
    table = AuditEntry.__tablename__  # names are this module's constants, from_size an int
    return f"SELECT {', '.join(names)} FROM {table} WHERE seq > {int(from_size)} ORDER BY seq"  # noqa: S608


_CURSORS = itertools.count(1)


@contextmanager
def _batches(session: Session, sql: str, batch: int) -> Iterator[Iterator[list[tuple]]]:
    """Rows of `sql` in lists of `batch`, from the driver's cursor in the session's transaction
    (a server-side cursor on PostgreSQL, so memory stays flat however long the log)."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None  # an open session's connection
    if connection.dialect.name == "postgresql":
        cursor = raw.cursor(name=f"audit_verify_{next(_CURSORS)}")
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql)
        yield iter(lambda: cursor.fetchmany(batch), [])
    finally:
        cursor.close()


@dataclass
class _Tree:
    size: int
    frontier: list[bytes]
    stored: dict[int, AuditCheckpoint]
    wanted: set[int] = field(default_factory=set)
    roots: dict[int, bytes] = field(default_factory=dict)
    last_good: int = 0  # the last checkpoint the entries matched: locates a rewrite

    def hash_batches(
        self, batches: Iterable[list[tuple]], columns: Session | None, f: _Findings
    ) -> bool:
        """Extend the tree by every row in order, checking the display columns against each body
        when given the session to re-read them from; True if it stopped at a missing entry."""
        self.last_good = self.size
        stops = sorted(self.wanted)
        for rows in batches:
            seqs, bodies, *shown = zip(*rows, strict=True)
            first = self.size + 1
            contiguous = seqs == tuple(range(first, first + len(seqs)))
            good = len(seqs) if contiguous else _run_length(seqs, first)
            if columns is not None and good:
                _check_columns(columns, seqs[:good], bodies[:good], [c[:good] for c in shown], f)
            self._extend(merkle.leaf_hashes(bodies[:good]), stops, f)
            if not contiguous:
                f.add(
                    self.size + 1,
                    f"entry {self.size + 1} is missing (next present is {seqs[good]})",
                )
                return True
        return False

    def _extend(self, leaves: list[bytes], stops: list[int], f: _Findings) -> None:
        """Add the leaves, stopping at every size where a root is wanted."""
        end, done = self.size + len(leaves), 0
        for stop in stops[bisect.bisect_right(stops, self.size) : bisect.bisect_right(stops, end)]:
            self.size = merkle.frontier_extend(
                self.frontier, self.size, leaves[done : done + stop - self.size]
            )
            done = stop - (end - len(leaves))
            self.last_good = self._at_checkpoint(self.last_good, f)
        self.size = merkle.frontier_extend(self.frontier, self.size, leaves[done:])

    def _at_checkpoint(self, last_good: int, f: _Findings) -> int:
        size = self.size
        root = self.roots[size] = merkle.frontier_root(self.frontier)
        cp = self.stored.get(size)
        if cp is None:
            return last_good
        if cp.root != root:
            f.add(
                last_good + 1,
                f"entries {last_good + 1}-{size} do not match the signed checkpoint "
                f"at {size}: an entry among them has been altered",
            )
        elif cp.frontier != merkle.pack(self.frontier):
            f.add(size, f"checkpoint at {size}: its stored frontier is wrong")
        else:
            return size
        return last_good


def _run_length(seqs: tuple[int, ...], first: int) -> int:
    """How many of `seqs` run on from `first` without a gap."""
    return next(i for i, seq in enumerate(seqs) if seq != first + i)


_LENGTH = struct.Struct(">I").pack


def _check_columns(
    session: Session,
    seqs: tuple[int, ...],
    bodies: tuple[bytes, ...],
    shown: list[tuple[object, ...]],
    f: _Findings,
) -> None:
    """Every entry's display columns encode to its body (chain.encode), the whole batch at once
    with the loops in C; a batch that does not agree is checked again entry by entry."""
    try:
        rows = zip(map(str, seqs), *shown, strict=True)
        fields = list(map(str.encode, ichain.from_iterable(rows)))
    except TypeError:  # a NULL or a value that is not text: the exact check says what it is
        fields = []
    if fields:
        parts = iter(ichain.from_iterable(zip(map(_LENGTH, map(len, fields)), fields, strict=True)))
        expected = map(b"".join, zip(*[parts] * (2 * len(chain.FIELDS)), strict=True))
        if all(map(operator.eq, expected, bodies)):
            return
    _check_columns_exactly(session, seqs[0], seqs[-1], f)


def _check_columns_exactly(session: Session, first: int, last: int, f: _Findings) -> None:
    """The columns as the application reads them, re-encoded and compared with each body."""
    stmt = (
        select(AuditEntry.seq, AuditEntry.body, *_COLUMNS)
        .where(AuditEntry.seq.between(first, last))
        .order_by(AuditEntry.seq)
    )
    encode, timestamp = chain.encode, chain.timestamp
    for row in session.execute(stmt):
        seq, body = row[0], row[1]
        if encode((seq, timestamp(row[2]), row[3] or "", *row[4:13])) != body:
            f.add(seq, _altered_columns(seq, body, row))


def _check_stored(
    stored: dict[int, AuditCheckpoint],
    public_key: bytes,
    from_size: int,
    size: int | None,
    f: _Findings,
) -> int:
    """Every stored checkpoint's signature, and none past the end (`size`: None after a gap)."""
    checked = 0
    for cp in stored.values():
        if cp.seq <= from_size:
            continue
        checked += 1
        if not as_checkpoint(cp).signed_by(public_key):
            f.add(cp.seq, f"checkpoint at {cp.seq} has an invalid signature")
        elif size is not None and cp.seq > size:
            f.add(
                size + 1,
                f"the log has been truncated: the checkpoint at {cp.seq} covers entries "
                f"the database no longer holds (it holds {size})",
            )
    return checked


def _altered_columns(seq: int, body: bytes, row: object) -> str:
    try:
        signed = chain.decode(body)
    except (ValueError, UnicodeDecodeError):
        return f"entry {seq} has been altered (its body is not a valid entry)"
    values = row[2:]  # type: ignore[index]
    shown = [chain.timestamp(values[0]), str(values[1] or ""), *(str(v) for v in values[2:])]
    names = chain.FIELDS[1:]
    changed = [n for n, v in zip(names, shown, strict=True) if signed[n] != v]
    if signed["seq"] != str(seq):
        changed.insert(0, "seq")
    what = ", ".join(changed) or "body"
    return f"entry {seq} has been altered: its {what} no longer matches the entry's hashed body"


def _check_views(session: Session, from_size: int, batch: int, f: _Findings) -> None:
    """The who-has-seen index holds exactly the objects each allowed read showed: a reader's
    rows deleted (hidden) or added (framed) are named. Both streams are read in entry order and
    merged, so memory stays flat however long the log."""
    after = int(from_size)  # the SQL below is this module's text; from_size an int
    entries = (
        f"SELECT seq, action, object_id, detail FROM {AuditEntry.__tablename__} "  # noqa: S608
        f"WHERE seq > {after} AND outcome = 'allow' ORDER BY seq"
    )
    views = (
        f"SELECT seq, object_id FROM {AuditView.__tablename__} "  # noqa: S608
        f"WHERE seq > {after} ORDER BY seq"
    )
    with (
        _batches(session, entries, batch) as shown_rows,
        _batches(session, views, batch) as view_rows,
    ):
        wanted = _expected_views(ichain.from_iterable(shown_rows))
        held = (
            (seq, frozenset(o for _, o in group))
            for seq, group in groupby(ichain.from_iterable(view_rows), key=itemgetter(0))
        )
        want, have = next(wanted, None), next(held, None)
        while want is not None or have is not None:
            if have is None or (want is not None and want[0] < have[0]):
                assert want is not None
                f.add(want[0], f"entry {want[0]}: its who-has-seen rows are missing")
                want = next(wanted, None)
            elif want is None or have[0] < want[0]:
                f.add(have[0], f"who-has-seen rows for entry {have[0]} that no read showed")
                have = next(held, None)
            else:
                if want[1] != have[1]:
                    f.add(want[0], f"entry {want[0]}: its who-has-seen rows do not match it")
                want, have = next(wanted, None), next(held, None)


def _expected_views(rows: Iterable[tuple]) -> Iterator[tuple[int, frozenset[str]]]:
    for seq, action, object_id, detail in rows:
        if '"shown"' not in detail and not action.endswith(".read"):
            continue  # parse JSON only where a read may have shown something
        shown = shown_in(action, "allow", object_id, json.loads(detail))
        if shown:
            yield seq, frozenset(shown)


def _check_objects(session: Session, f: _Findings) -> None:
    """Every append-only object has the entry that created it, whatever `from_size`: a row
    inserted behind the application's back leaves the chain intact but has none."""
    found, notes = orphans.find(session)
    f.orphans += map(str, found)
    f.notes += notes


def _check_head(session: Session, size: int, frontier: list[bytes], f: _Findings) -> None:
    head = session.get(AuditHead, 1)
    if head is None:
        f.add(size + 1, "the log's head row is missing")
    elif head.seq != size:
        f.add(
            min(head.seq, size) + 1,
            f"the log holds {size} entries but its head records {head.seq}",
        )
    elif head.frontier != merkle.pack(frontier):
        f.add(size, f"the head's tree frontier does not match the {size} entries")


def _read_witness(path: str | Path | None, public_key: bytes, f: _Findings) -> list[Checkpoint]:
    if path is None:
        f.notes.append("no witness configured: truncation after the last checkpoint can go unseen")
        return []
    lines = witness.read(path)
    good = []
    for line in lines:
        if line.checkpoint is None:
            f.add(0, line.problem)
        elif not line.checkpoint.signed_by(public_key):
            f.add(
                line.checkpoint.size,
                f"witness line {line.number}: the checkpoint at {line.checkpoint.size} "
                "has an invalid signature (forged)",
            )
        else:
            good.append(line.checkpoint)
    if not lines:
        f.notes.append(f"the witness at {path} holds no checkpoints yet")
    return good


def _check_witnessed(
    witnessed: list[Checkpoint],
    stored: dict[int, AuditCheckpoint],
    roots: dict[int, bytes],
    size: int,
    from_size: int,
    f: _Findings,
) -> None:
    if not witnessed:
        return
    latest = max(witnessed, key=lambda c: c.size)
    if latest.size > size:
        f.add(
            size + 1,
            f"the log has been truncated: the witness saw {latest.size} entries, "
            f"the database holds {size}",
        )
    for cp in witnessed:
        row = stored.get(cp.size)
        if row is None:
            if cp.size >= from_size:
                f.add(cp.size, f"checkpoint at {cp.size} was deleted (the witness holds it)")
        elif row.root != cp.root:
            f.add(cp.size, f"checkpoint at {cp.size} differs from the one the witness holds")
        if from_size < cp.size <= size and roots.get(cp.size) != cp.root:
            f.add(
                cp.size,
                f"the entries up to {cp.size} have been rewritten: their root differs from the "
                "checkpoint the witness holds",
            )


def _result(
    f: _Findings,
    entries: int,
    checked: int,
    size: int,
    frontier: list[bytes],
    witnessed: int,
    problem: str = "",
) -> VerifyResult:
    found = sorted(f.found, key=lambda p: p[0])
    messages = tuple(m for _, m in found) + ((problem,) if problem else ()) + tuple(f.orphans)
    return VerifyResult(
        ok=not messages,
        entries=entries,
        checkpoints=checked,
        first_broken=found[0][0] if found else None,
        problem=messages[0] if messages else "",
        problems=messages,
        size=size,
        root=merkle.frontier_root(frontier),
        witnessed=witnessed,
        notes=tuple(f.notes),
        orphans=tuple(f.orphans),
    )
