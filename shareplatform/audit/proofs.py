"""Inclusion proofs: an audit entry, the signed checkpoint it lies under and its audit path
(RFC 9162 2.1.3), checkable offline with nothing but the platform's public key."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import chain, merkle
from .checkpoints import Checkpoint, key_id
from .log import as_checkpoint
from .models import AuditCheckpoint, AuditEntry

FORMAT = "shareplatform-audit-inclusion/1"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def covering(session: Session, seq: int) -> Checkpoint | None:
    """The newest stored checkpoint whose tree holds entry `seq`."""
    row = session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1))
    return as_checkpoint(row) if row is not None and row.seq >= seq else None


def inclusion_proofs(
    session: Session, public_key: bytes, seqs: Iterable[int], checkpoint: Checkpoint
) -> dict[int, dict[str, object]]:
    """A proof for each entry in `seqs` under `checkpoint`, reading the log's bodies once."""
    wanted = sorted(set(seqs))
    if wanted and not 1 <= wanted[0] <= wanted[-1] <= checkpoint.size:
        raise ValueError(f"entries {wanted} are not all under the checkpoint at {checkpoint.size}")
    leaves, bodies = [], {}
    stmt = (
        select(AuditEntry.seq, AuditEntry.body)
        .where(AuditEntry.seq <= checkpoint.size)
        .order_by(AuditEntry.seq)
    )
    targets = set(wanted)
    for seq, body in session.execute(stmt.execution_options(yield_per=5000)):
        leaves.append(merkle.leaf_hash(body))
        if seq in targets:
            bodies[seq] = body
    if len(leaves) != checkpoint.size or merkle.root(leaves) != checkpoint.root:
        raise ValueError(f"the log does not match its checkpoint at {checkpoint.size}: run verify")
    return {
        seq: {
            "format": FORMAT,
            "entry": {"seq": seq, "body": _b64(bodies[seq]), "fields": chain.decode(bodies[seq])},
            "leaf_index": seq - 1,
            "tree_size": checkpoint.size,
            "root": _b64(checkpoint.root),
            "checkpoint": checkpoint.as_json(),
            "audit_path": [_b64(h) for h in merkle.inclusion_path(seq - 1, leaves)],
            "public_key": _b64(public_key),
            "key_id": key_id(public_key),
        }
        for seq in wanted
    }


def check_inclusion(proof: dict, trusted_key: bytes | None = None) -> list[str]:
    """The problems with a proof; none means the entry is in the signed tree as shown.

    Without `trusted_key` the embedded key is used: compare its key id with the published one.
    """
    try:
        if proof.get("format") != FORMAT:
            return [f"not an audit inclusion proof ({proof.get('format')!r})"]
        public = base64.b64decode(proof["public_key"], validate=True)
        if trusted_key is not None and public != trusted_key:
            return ["the proof names another signing key than the one trusted"]
        if key_id(public) != proof["key_id"]:
            return ["the embedded public key does not match its key id"]
        cp = Checkpoint.from_json(proof["checkpoint"])
        problems = []
        if not cp.signed_by(public):
            problems.append(f"the checkpoint at {cp.size} has an invalid signature")
        root = base64.b64decode(proof["root"], validate=True)
        size, index = int(proof["tree_size"]), int(proof["leaf_index"])
        if cp.size != size or cp.root != root:
            problems.append("the proof's tree is not the one its checkpoint signs")
        body = base64.b64decode(proof["entry"]["body"], validate=True)
        fields = chain.decode(body)
        if fields["seq"] != str(index + 1) or proof["entry"]["seq"] != index + 1:
            problems.append(f"the entry is not entry {index + 1} of the log")
        if proof["entry"].get("fields", fields) != fields:
            problems.append("the entry's readable fields differ from its hashed body")
        path = [base64.b64decode(h, validate=True) for h in proof["audit_path"]]
        if not merkle.verify_inclusion(index, size, merkle.leaf_hash(body), path, cp.root):
            problems.append(f"entry {index + 1} is not in the signed tree of {size} entries")
        return problems
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        return [f"malformed proof: {exc!r}"]
