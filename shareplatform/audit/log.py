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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Table, bindparam, event, insert, update
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
_ADVANCE = (
    update(_head)
    .where(_head.c.id == 1)
    .values(seq=_head.c.seq + bindparam("n"))
    .returning(_head.c.seq, _head.c.frontier)
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
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))
_INSERT_VIEW = insert(cast(Table, AuditView.__table__))
_INSERT_CHECKPOINT = insert(cast(Table, AuditCheckpoint.__table__))

_PENDING = "shareplatform.audit.pending"  # session.info: the log appended to, and why
_SIGNED = "shareplatform.audit.signed"  # session.info: checkpoints to witness after commit
_MARKS = "shareplatform.audit.marks"  # session.info: savepoint -> queue length at its start
_REFS = itertools.count(1)  # a queued entry's reference, unique in this process


@dataclass(frozen=True, slots=True)
class _Queued:
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

    def write_queued(self, session: Session) -> list[Appended]:
        """Write every queued entry of this transaction, in order, as one block."""
        pending = session.info.get(_PENDING)
        if pending is None or not pending.queue:
            return []
        queue, pending.queue = pending.queue, []
        marks = session.info.get(_MARKS)
        if marks:  # what is written now is not taken back by a savepoint's rollback
            session.info[_MARKS] = dict.fromkeys(marks, 0)
        # Taking the head row's write lock first serialises concurrent writers on both backends.
        last, packed = session.execute(_ADVANCE, {"n": len(queue)}).one()
        frontier = merkle.unpack(packed)
        entries: list[dict[str, object]] = []
        views: list[dict[str, object]] = []
        written: list[Appended] = []
        for seq, item in enumerate(queue, start=last - len(queue) + 1):
            row = _entry_row(seq, item)
            leaf = merkle.leaf_hash(cast(bytes, row["body"]))
            merkle.frontier_append(frontier, seq - 1, leaf)
            entries.append(row)
            views += [
                dict(object_id=o, seq=seq, actor_id=item.actor_id, at=item.at)
                for o in shown_objects(item.event)
            ]
            written.append(Appended(seq, leaf))
        # prebuilt statements with bound parameters: building SQL per entry cost more than the work
        session.execute(_INSERT_ENTRY, entries)
        if views:
            session.execute(_INSERT_VIEW, views)
        session.execute(_HEAD, {"f": merkle.pack(frontier)})
        return written

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
        size, packed, cp_seq, cp_at = session.execute(_LOCK_HEAD).one()
        if size <= cp_seq:
            return
        due = (
            pending.privileged
            or size - cp_seq >= self.every
            or cp_at is None
            or utcnow() - _aware(cp_at) >= self.interval
        )
        if due:
            self._sign(session, size, packed)

    def _sign(self, session: Session, size: int, packed: bytes) -> Checkpoint:
        now = utcnow()
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
        session.execute(_HEAD_CHECKPOINT, {"cs": size, "ca": now})
        session.info.setdefault(_SIGNED, []).append((self, cp))
        return cp


def _entry_row(seq: int, item: _Queued) -> dict[str, object]:
    event = item.event
    detail = chain.canonical_detail(event.detail)
    body = chain.encode(
        (
            seq,
            chain.timestamp(item.at),
            item.actor_id or "",
            item.actor,
            event.action,
            event.object_type,
            event.object_id,
            event.case_id,
            event.label.marking,
            event.outcome,
            event.reason,
            detail,
        )
    )
    return dict(
        seq=seq,
        at=item.at,
        actor_id=item.actor_id,
        actor=item.actor,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        case_id=event.case_id,
        label=event.label.marking,
        outcome=event.outcome,
        reason=event.reason,
        detail=detail,
        body=body,
    )


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
        pending.log.write_queued(session)  # the queue, as one block, within this commit
        session.info.pop(_PENDING, None)
        pending.log._at_commit(session, pending)


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
