"""Appending to the audit log, in the caller's transaction, without forking the tree; signing a
checkpoint when one is due at commit, and handing it to the witness once the commit is done.

Entries are queued in the transaction and written together when it commits: the head row's lock,
which serialises every writer, is then held for the commit alone, not for the whole request.
They commit with the work they record or not at all (a rolled-back savepoint takes back what it
queued). Whoever needs an entry's sequence number before commit (a signed decision that cites
it) uses `append_now`, which writes the queue at once.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Dialect, Table, bindparam, event, insert, update
from sqlalchemy.orm import ORMExecuteState, Session

from ..db import utcnow
from ..domain.labels import Classification
from . import chain, merkle
from .checkpoints import Checkpoint, key_id
from .models import AuditCheckpoint, AuditEntry, AuditHead, AuditView
from .witness import Witness

# Changes to who may do what: the transaction that makes one commits with a signed checkpoint.
PRIVILEGED = (
    "policy.",
    "user.",
    "users.",
    "keys.",
    "key.",
    "token.",
    "approval.",
    "admin.",
    "team.",
    "break_glass.take",
    "record.shred",
)


def is_privileged(action: str) -> bool:
    return action.startswith(PRIVILEGED)


@dataclass(frozen=True, kw_only=True)
class Event:
    """What happened, as the audit log records it. Built by keyword."""

    action: str  # e.g. "record.read", "case.view", "record.create", "policy.apply", "signin"
    object_type: str
    outcome: str  # allow, deny, done, fail
    label: Classification = Classification.OFFICIAL  # the highest label of what it describes
    object_id: str = ""
    case_id: str = ""
    reason: str = ""
    detail: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.label, Classification):  # a marking string would be ambiguous
            raise TypeError(f"an audit event's label is a Classification, not {self.label!r}")


def shown_objects(event: Event) -> list[str]:
    """The objects an allowed read showed: a listing's `shown` ids, or a single read's object."""
    return shown_in(event.action, event.outcome, event.object_id, event.detail)


def shown_in(action: str, outcome: str, object_id: str, detail: Mapping[str, object]) -> list[str]:
    """shown_objects from an entry's fields (also used by verification, from stored entries)."""
    if outcome != "allow":
        return []
    shown = detail.get("shown")
    if isinstance(shown, list):
        return list(dict.fromkeys(str(x) for x in shown))
    if action.endswith(".read") and object_id:
        return [object_id]
    return []


class Signer:
    """Ed25519 signing with the platform key held by the key provider."""

    def __init__(self, seed: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed[:32])
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = public
        self.key_id = key_id(public)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    hash: bytes  # the entry's Merkle leaf hash


_head = cast(Table, AuditHead.__table__)
_ADVANCE = (  # with what decides whether the commit signs, so that it need not ask again
    update(_head)
    .where(_head.c.id == 1)
    .values(seq=_head.c.seq + bindparam("n"))
    .returning(_head.c.seq, _head.c.frontier, _head.c.checkpoint_seq, _head.c.checkpoint_at)
)
_LOCK_HEAD = (
    update(_head)
    .where(_head.c.id == 1)
    .values(seq=_head.c.seq)
    .returning(_head.c.seq, _head.c.frontier, _head.c.checkpoint_seq, _head.c.checkpoint_at)
)
_HEAD = update(_head).where(_head.c.id == 1).values(frontier=bindparam("f"))
_HEAD_CHECKPOINT = (
    update(_head)
    .where(_head.c.id == 1)
    .values(checkpoint_seq=bindparam("cs"), checkpoint_at=bindparam("ca"))
)
_HEAD_SIGNED = (
    update(_head)
    .where(_head.c.id == 1)
    .values(frontier=bindparam("f"), checkpoint_seq=bindparam("cs"), checkpoint_at=bindparam("ca"))
)
_entries = cast(Table, AuditEntry.__table__)
_INSERT_CHECKPOINT = insert(cast(Table, AuditCheckpoint.__table__))

_PENDING = "shareplatform.audit.pending"  # session.info: the log appended to, and why
_SIGNED = "shareplatform.audit.signed"  # session.info: checkpoints to witness after commit
_MARKS = "shareplatform.audit.marks"  # session.info: savepoint -> queue length at its start
_REFS = itertools.count(1)  # a queued entry's reference, unique in this process


class _Queued(NamedTuple):  # a tuple: built once per entry, cheaper than a frozen dataclass
    actor_id: uuid.UUID | None
    actor: str
    event: Event
    at: datetime


@dataclass
class _Pending:
    log: AuditLog
    privileged: bool = False
    queue: list[_Queued] = field(default_factory=list)


class AuditLog:
    def __init__(
        self,
        signer: Signer,
        every: int = 1000,
        seconds: float = 5,
        witness: Witness | None = None,
    ) -> None:
        self.signer = signer
        self.every = every
        self.interval = timedelta(seconds=seconds)
        self.witness = witness

    def append(
        self,
        session: Session,
        actor_id: uuid.UUID | None,
        actor: str,
        event: Event,
        at: datetime | None = None,
    ) -> int:
        """Queue an entry in the caller's transaction, written when it commits. Returns the
        entry's reference (unique in this process), which a decryption grant records."""
        pending = self._pending(session)
        pending.queue.append(_Queued(actor_id, actor, event, at or utcnow()))
        pending.privileged = pending.privileged or is_privileged(event.action)
        return next(_REFS)

    def append_now(
        self,
        session: Session,
        actor_id: uuid.UUID | None,
        actor: str,
        event: Event,
        at: datetime | None = None,
    ) -> Appended:
        """Write the queue and this entry at once, for a caller that must cite its number."""
        self.append(session, actor_id, actor, event, at)
        return self.write_queued(session)[-1]

    def _pending(self, session: Session) -> _Pending:
        pending = session.info.get(_PENDING)
        if pending is None or pending.log is not self:
            pending = session.info[_PENDING] = _Pending(self)
        return pending

    def write_queued(self, session: Session, *, committing: bool = False) -> list[Appended]:
        """Write every queued entry of this transaction, in order, as one block; `committing`
        (from the commit hook) also signs a checkpoint if one is due, in the same head update."""
        pending = session.info.get(_PENDING)
        if pending is None or not pending.queue:
            if committing and pending is not None:
                self._at_commit(session, pending)
            return []
        queue, pending.queue = pending.queue, []
        marks = session.info.get(_MARKS)
        if marks:  # what is written now is not taken back by a savepoint's rollback
            session.info[_MARKS] = dict.fromkeys(marks, 0)
        # Taking the head row's write lock first serialises concurrent writers on both backends.
        size, packed, cp_seq, cp_at = session.execute(_ADVANCE, {"n": len(queue)}).one()
        first = size - len(queue) + 1
        connection = session.connection()
        inserts = _inserts(connection.dialect)
        entries, bodies, views = _rows(queue, first, inserts)
        leaves = merkle.leaf_hashes(bodies)
        frontier = merkle.unpack(packed)
        merkle.frontier_extend(frontier, first - 1, leaves)
        # one executemany per table through the driver: SQLAlchemy's per-row parameter handling
        # cost more than the inserts themselves
        connection.exec_driver_sql(inserts.entries, entries)
        if views:
            connection.exec_driver_sql(inserts.views, views)
        packed = merkle.pack(frontier)
        if committing and self._due(pending, size, cp_seq, cp_at):
            now = utcnow()
            self._sign(session, size, packed, now, head=False)
            session.execute(_HEAD_SIGNED, {"f": packed, "cs": size, "ca": now})
        else:
            session.execute(_HEAD, {"f": packed})
        return [Appended(seq, leaf) for seq, leaf in enumerate(leaves, start=first)]

    def checkpoint(self, session: Session) -> Checkpoint:
        """Sign the tree as it stands in this transaction (witnessed once the commit is done)."""
        self.write_queued(session)
        size, packed, cp_seq, _ = session.execute(_LOCK_HEAD).one()
        if size == cp_seq and size > 0:
            row = session.get(AuditCheckpoint, size)
            if row is not None:
                return as_checkpoint(row)
        return self._sign(session, size, packed)

    def _at_commit(self, session: Session, pending: _Pending) -> None:
        """Sign at commit if due, when the queue was already written (append_now, a read)."""
        size, packed, cp_seq, cp_at = session.execute(_LOCK_HEAD).one()
        if self._due(pending, size, cp_seq, cp_at):
            self._sign(session, size, packed)

    def _due(self, pending: _Pending, size: int, cp_seq: int, cp_at: datetime | None) -> bool:
        """Does this commit sign: something unsigned, and privileged, enough or old enough?"""
        if size <= cp_seq:
            return False
        return (
            pending.privileged
            or size - cp_seq >= self.every
            or cp_at is None
            or utcnow() - _aware(cp_at) >= self.interval
        )

    def _sign(
        self,
        session: Session,
        size: int,
        packed: bytes,
        now: datetime | None = None,
        *,
        head: bool = True,
    ) -> Checkpoint:
        """Sign the tree of `size` leaves; `head`: also record it in the head row (else the
        caller does, with the frontier)."""
        now = now or utcnow()
        root = merkle.frontier_root(merkle.unpack(packed))
        at = chain.timestamp(now)
        signature = self.signer.sign(chain.checkpoint_note(size, root, at))
        cp = Checkpoint(size, root, at, self.signer.key_id, signature)
        session.execute(
            _INSERT_CHECKPOINT,
            dict(
                seq=size,
                at=now,
                root=root,
                signature=signature,
                key_id=cp.key_id,
                frontier=packed,
            ),
        )
        if head:
            session.execute(_HEAD_CHECKPOINT, {"cs": size, "ca": now})
        session.info.setdefault(_SIGNED, []).append((self, cp))
        return cp


class _Inserts(NamedTuple):
    """The two inserts of a block, as driver SQL, with SQLAlchemy's own conversions of the typed
    columns (so that the stored text is what the models write and verification reads)."""

    entries: str
    views: str
    at: Callable[[datetime], object]
    actor_id: Callable[[uuid.UUID | None], object]


_ENTRY_COLUMNS = (*chain.FIELDS, "body")
_VIEW_COLUMNS = ("object_id", "seq", "actor_id", "at")
_DRIVER_INSERTS: dict[tuple[str, str], _Inserts] = {}


def _same(value: object) -> object:
    return value


def _inserts(dialect: Dialect) -> _Inserts:
    key = (dialect.name, dialect.driver)
    if key not in _DRIVER_INSERTS:
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}[dialect.paramstyle]

        def sql(table: str, names: tuple[str, ...]) -> str:  # names: this module's constants
            marks = ", ".join([mark] * len(names))
            return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608

        columns = _entries.c
        _DRIVER_INSERTS[key] = _Inserts(
            sql(AuditEntry.__tablename__, _ENTRY_COLUMNS),
            sql(AuditView.__tablename__, _VIEW_COLUMNS),
            columns.at.type.dialect_impl(dialect).bind_processor(dialect) or _same,
            columns.actor_id.type.dialect_impl(dialect).bind_processor(dialect) or _same,
        )
    return _DRIVER_INSERTS[key]


def _rows(
    queue: list[_Queued], first: int, inserts: _Inserts
) -> tuple[list[tuple[object, ...]], list[bytes], list[tuple[object, ...]]]:
    """The entries' rows for the driver, their bodies (what the tree hashes), the views' rows."""
    entries: list[tuple[object, ...]] = []
    bodies: list[bytes] = []
    views: list[tuple[object, ...]] = []
    encode, timestamp, canonical = chain.encode, chain.timestamp, chain.canonical_detail
    for seq, (actor_id, actor, what, at) in enumerate(queue, start=first):
        detail = canonical(what.detail)
        label = what.label.marking
        fields = (
            seq,
            timestamp(at),
            actor_id or "",
            actor,
            what.action,
            what.object_type,
            what.object_id,
            what.case_id,
            label,
            what.outcome,
            what.reason,
            detail,
        )
        body = encode(fields)
        stored_at, stored_actor = inserts.at(at), inserts.actor_id(actor_id)
        entries.append((seq, stored_at, stored_actor, *fields[3:], body))
        bodies.append(body)
        views += [(o, seq, stored_actor, stored_at) for o in shown_objects(what)]
    return entries, bodies, views


def as_checkpoint(row: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(row.seq, row.root, chain.timestamp(row.at), row.key_id, row.signature)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- the commit hooks, one set for every Session: each session names the log it appended to ------
@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer commit decides
        return
    pending = session.info.get(_PENDING)
    if pending is not None:
        # the queue, as one block, within this commit, signed if a checkpoint is due
        pending.log.write_queued(session, committing=True)
        session.info.pop(_PENDING, None)


_AUDIT_TABLES = frozenset(
    {AuditEntry.__tablename__, AuditView.__tablename__, AuditCheckpoint.__tablename__}
)


@event.listens_for(Session, "do_orm_execute")
def _written_before_read(state: ORMExecuteState) -> None:
    # A transaction that reads the log sees the entries it queued, as if they were written.
    pending = state.session.info.get(_PENDING)
    if pending is None or not pending.queue or not state.is_select:
        return
    if _reads_log(state):
        pending.log.write_queued(state.session)


def _reads_log(state: ORMExecuteState) -> bool:
    """Does a query name an audit table (an entity, or a table in its columns or explicit FROM,
    directly or in a join or alias)? Cheap checks only (the full FROM list costs milliseconds to
    compute): this runs for every query of a transaction that has audited."""
    if any(getattr(m.persist_selectable, "name", None) in _AUDIT_TABLES for m in state.all_mappers):
        return True
    statement = state.statement
    stack = [
        *getattr(statement, "columns_clause_froms", ()),
        *getattr(statement, "_from_obj", ()),
    ]
    while stack:
        item = stack.pop()
        if getattr(item, "name", None) in _AUDIT_TABLES and isinstance(item, Table):
            return True
        for attr in ("left", "right", "element"):
            inner = getattr(item, attr, None)
            if inner is not None and not isinstance(inner, str):
                stack.append(inner)
    return False


@event.listens_for(Session, "after_transaction_create")
def _savepoint_started(session: Session, transaction: object) -> None:
    if getattr(transaction, "nested", False):
        pending = session.info.get(_PENDING)
        marks = session.info.setdefault(_MARKS, {})
        marks[id(transaction)] = len(pending.queue) if pending is not None else 0


@event.listens_for(Session, "after_soft_rollback")
def _savepoint_rolled_back(session: Session, previous_transaction: object) -> None:
    # a rolled-back savepoint takes back the entries it queued, as it takes back its rows
    mark = session.info.get(_MARKS, {}).pop(id(previous_transaction), None)
    pending = session.info.get(_PENDING)
    if mark is not None and pending is not None:
        del pending.queue[mark:]


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    # only now is the checkpoint durable: a rolled-back one must never reach the witness
    for log, cp in session.info.pop(_SIGNED, ()):
        if log.witness is not None:
            log.witness.append(cp)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:  # the outer transaction ended either way
        session.info.pop(_PENDING, None)
        session.info.pop(_SIGNED, None)
        session.info.pop(_MARKS, None)
