"""Appending to the audit log, in the caller's transaction, without forking the chain."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from ..db import utcnow
from ..domain.labels import Classification
from . import chain
from .models import AuditCheckpoint, AuditEntry, AuditHead


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


class Signer:
    """Ed25519 signing with the platform key held by the key provider."""

    def __init__(self, seed: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed[:32])
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = public
        self.key_id = hashlib.sha256(public).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


@dataclass(frozen=True, slots=True)
class Appended:
    seq: int
    hash: bytes


_head = cast(Table, AuditHead.__table__)
_ADVANCE = (
    update(_head)
    .where(_head.c.id == 1)
    .values(seq=_head.c.seq + 1)
    .returning(_head.c.seq, _head.c.hash, _head.c.checkpoint_seq, _head.c.checkpoint_at)
)
_HEAD = update(_head).where(_head.c.id == 1).values(hash=bindparam("h"))
_HEAD_WITH_CHECKPOINT = (
    update(_head)
    .where(_head.c.id == 1)
    .values(hash=bindparam("h"), checkpoint_seq=bindparam("cs"), checkpoint_at=bindparam("ca"))
)
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))
_INSERT_CHECKPOINT = insert(cast(Table, AuditCheckpoint.__table__))


class AuditLog:
    def __init__(self, signer: Signer, every: int = 1000, seconds: int = 300) -> None:
        self.signer = signer
        self.every = every
        self.interval = timedelta(seconds=seconds)

    def append(
        self,
        session: Session,
        actor_id: uuid.UUID | None,
        actor: str,
        event: Event,
        at: datetime | None = None,
    ) -> Appended:
        # Taking the head row's write lock first serialises concurrent writers on both backends.
        seq, prev_hash, cp_seq, cp_at = session.execute(_ADVANCE).one()
        at = at or utcnow()
        detail = chain.canonical_detail(event.detail)
        values = (
            seq,
            chain.timestamp(at),
            actor_id or "",
            actor,
            event.action,
            event.object_type,
            event.object_id,
            event.case_id,
            event.label.marking,
            event.outcome,
            event.reason,
            detail,
        )
        entry_hash = chain.link(prev_hash, chain.encode(values))
        row = dict(
            seq=seq,
            at=at,
            actor_id=actor_id,
            actor=actor,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            case_id=event.case_id,
            label=event.label.marking,
            outcome=event.outcome,
            reason=event.reason,
            detail=detail,
            prev_hash=prev_hash,
            hash=entry_hash,
        )
        # prebuilt statements with bound parameters: building SQL per entry cost more than the work
        session.execute(_INSERT_ENTRY, row)
        if seq - cp_seq >= self.every or cp_at is None or at - _aware(cp_at) >= self.interval:
            cp = self._checkpoint(seq, entry_hash, at)
            session.execute(
                _INSERT_CHECKPOINT,
                dict(seq=cp.seq, at=cp.at, hash=cp.hash, signature=cp.signature, key_id=cp.key_id),
            )
            session.execute(_HEAD_WITH_CHECKPOINT, {"h": entry_hash, "cs": seq, "ca": at})
        else:
            session.execute(_HEAD, {"h": entry_hash})
        return Appended(seq, entry_hash)

    def _checkpoint(self, seq: int, entry_hash: bytes, at: datetime) -> AuditCheckpoint:
        signature = self.signer.sign(chain.checkpoint_message(seq, entry_hash))
        return AuditCheckpoint(
            seq=seq, at=at, hash=entry_hash, signature=signature, key_id=self.signer.key_id
        )


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
