"""Verification of the whole chain and its signed checkpoints. Reports the first broken entry."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import chain
from .models import AuditCheckpoint, AuditEntry, AuditHead


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    checkpoints: int
    first_broken: int | None = None
    problem: str = ""


def verify(session: Session, public_key: bytes, batch: int = 5000) -> VerifyResult:
    checkpoints = {c.seq: c for c in session.scalars(select(AuditCheckpoint))}
    verifier = Ed25519PublicKey.from_public_bytes(public_key)
    expected_seq, prev, count = 1, chain.GENESIS, 0
    encode, link = chain.encode, chain.link
    stmt = select(
        AuditEntry.seq,
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
        AuditEntry.prev_hash,
        AuditEntry.hash,
    ).order_by(AuditEntry.seq)
    # a server-side cursor on PostgreSQL: `with` closes it also when returning at a broken entry
    with session.execute(stmt.execution_options(yield_per=batch)) as rows:
        for row in rows:
            seq = row[0]
            if seq != expected_seq:
                return VerifyResult(
                    False,
                    count,
                    len(checkpoints),
                    expected_seq,
                    f"entry {expected_seq} is missing (next present is {seq})",
                )
            values = (seq, chain.timestamp(row[1]), row[2] or "", *row[3:12])
            if row[12] != prev:
                return VerifyResult(
                    False,
                    count,
                    len(checkpoints),
                    seq,
                    f"entry {seq} does not follow entry {seq - 1}",
                )
            digest = link(prev, encode(values))
            if digest != row[13]:
                return VerifyResult(
                    False, count, len(checkpoints), seq, f"entry {seq} has been altered"
                )
            cp = checkpoints.get(seq)
            if cp is not None:
                problem = _check_checkpoint(verifier, cp, digest)
                if problem:
                    return VerifyResult(False, count, len(checkpoints), seq, problem)
            prev, expected_seq, count = digest, seq + 1, count + 1
    head = session.get(AuditHead, 1)
    last = expected_seq - 1
    if head is not None and (head.seq != last or head.hash != prev):
        return VerifyResult(
            False,
            count,
            len(checkpoints),
            last + 1 if head.seq > last else last,
            f"the chain ends at {last} but its head records {head.seq}",
        )
    for seq in checkpoints:
        if seq > last:
            return VerifyResult(
                False,
                count,
                len(checkpoints),
                last + 1,
                f"checkpoint {seq} covers entries that are missing",
            )
    return VerifyResult(True, count, len(checkpoints))


def _check_checkpoint(verifier: Ed25519PublicKey, cp: AuditCheckpoint, digest: bytes) -> str:
    if cp.hash != digest:
        return f"checkpoint at {cp.seq} does not match the chain"
    try:
        verifier.verify(cp.signature, chain.checkpoint_message(cp.seq, cp.hash))
    except InvalidSignature:
        return f"checkpoint at {cp.seq} has an invalid signature"
    return ""
