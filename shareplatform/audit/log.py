"""Appending to the audit log, in the caller's transaction, without forking the chain."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from ..db import utcnow
from . import chain
from .models import AuditCheckpoint, AuditEntry, AuditHead


@dataclass(frozen=True)
class Event:
    """What happened, as the audit log records it."""

    action: str  # e.g. "record.read", "case.view", "record.create", "policy.apply", "signin"
    object_type: str
    outcome: str  # allow, deny, done, fail
    label: str = "OFFICIAL"
    object_id: str = ""
    case_id: str = ""
    reason: str = ""
    detail: dict[str, object] = field(default_factory=dict)


class Signer:
    """Ed25519 signing with the platform key held by the key provider."""

    def __init__(self, seed: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed[:32])
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = public
        self.key_id = hashlib.sha256(public).hexdigest()[:16]

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


class AuditLog:
    def __init__(self, signer: Signer, every: int = 1000, seconds: int = 300) -> None:
        self.signer = signer
        self.every = every
        self.interval = timedelta(seconds=seconds)

    def append(
        self, session: Session, actor_id: uuid.UUID | None, actor: str, event: Event,
        at: datetime | None = None,
    ) -> AuditEntry:
        # Taking the head row's write lock first serialises concurrent writers on both backends.
        head_t, entry_t, cp_t = AuditHead.__table__, AuditEntry.__table__, AuditCheckpoint.__table__
        seq, prev_hash, cp_seq, cp_at = session.execute(
            update(head_t)
            .where(head_t.c.id == 1)
            .values(seq=head_t.c.seq + 1)
            .returning(head_t.c.seq, head_t.c.hash, head_t.c.checkpoint_seq, head_t.c.checkpoint_at)
        ).one()
        at = at or utcnow()
        detail = chain.canonical_detail(event.detail)
        values = (
            seq, chain.timestamp(at), actor_id or "", actor, event.action, event.object_type,
            event.object_id, event.case_id, event.label, event.outcome, event.reason, detail,
        )
        entry_hash = chain.link(prev_hash, chain.encode(values))
        row = dict(
            seq=seq, at=at, actor_id=actor_id, actor=actor, action=event.action,
            object_type=event.object_type, object_id=event.object_id, case_id=event.case_id,
            label=event.label, outcome=event.outcome, reason=event.reason, detail=detail,
            prev_hash=prev_hash, hash=entry_hash,
        )
        session.execute(insert(entry_t).values(**row))
        changes: dict[str, object] = {"hash": entry_hash}
        if seq - cp_seq >= self.every or cp_at is None or at - _aware(cp_at) >= self.interval:
            cp = self._checkpoint(seq, entry_hash, at)
            session.execute(insert(cp_t).values(seq=cp.seq, at=cp.at, hash=cp.hash, signature=cp.signature,
                                                key_id=cp.key_id))
            changes.update(checkpoint_seq=seq, checkpoint_at=at)
        session.execute(update(head_t).where(head_t.c.id == 1).values(**changes))
        return AuditEntry(**row)

    def _checkpoint(self, seq: int, entry_hash: bytes, at: datetime) -> AuditCheckpoint:
        signature = self.signer.sign(chain.checkpoint_message(seq, entry_hash))
        return AuditCheckpoint(seq=seq, at=at, hash=entry_hash, signature=signature, key_id=self.signer.key_id)


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
