"""Verifiable audit log: entries stored as their canonical bytes under a Merkle tree (RFC 9162),
signed tree heads with their frontiers, and the index of who was shown which object

The hash chain goes: its `prev_hash`/`hash` columns and the head's chain hash are replaced by the
tree's frontier, and the chain's checkpoints (signatures over chain hashes) by signed tree heads.
Before converting, the upgrade checks the chain's links and refuses a broken chain (run
`audit verify` on the older version to locate it). Existing rows are converted in batches; the
first commit after the upgrade signs a checkpoint over the whole converted log.

Revision ID: 0007
Revises: 0006
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
GENESIS = b"\x00" * 32

# the shapes this migration reads and writes, independent of the models of any later version
_log = sa.table(
    "audit_log",
    sa.column("seq", sa.BigInteger),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Uuid),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.String),
    sa.column("case_id", sa.String),
    sa.column("label", sa.String),
    sa.column("outcome", sa.String),
    sa.column("reason", sa.Text),
    sa.column("detail", sa.Text),
    sa.column("body", sa.LargeBinary),
    sa.column("prev_hash", sa.LargeBinary),
    sa.column("hash", sa.LargeBinary),
)
_head = sa.table(
    "audit_head",
    sa.column("id", sa.Integer),
    sa.column("seq", sa.BigInteger),
    sa.column("hash", sa.LargeBinary),
    sa.column("frontier", sa.LargeBinary),
    sa.column("checkpoint_seq", sa.BigInteger),
    sa.column("checkpoint_at", sa.DateTime(timezone=True)),
)
_views = sa.table(
    "audit_views",
    sa.column("object_id", sa.String),
    sa.column("seq", sa.BigInteger),
    sa.column("actor_id", sa.Uuid),
    sa.column("at", sa.DateTime(timezone=True)),
)
_FIELDS = (
    "at", "actor_id", "actor", "action", "object_type", "object_id", "case_id", "label",
    "outcome", "reason", "detail",
)  # fmt: skip


def _encode(values: Sequence[object]) -> bytes:  # shareplatform/audit/chain.py encode
    out = bytearray()
    for value in values:
        raw = str(value if value is not None else "").encode()
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC) if at.tzinfo is not None else at


def _body(row: sa.Row) -> bytes:  # type: ignore[type-arg]
    return _encode(
        (
            row.seq,
            _utc(row.at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            row.actor_id or "",
            *(getattr(row, name) for name in _FIELDS[2:]),
        )
    )


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _append(frontier: list[bytes], size: int, body: bytes) -> None:
    node = hashlib.sha256(b"\x00" + body).digest()
    while size & 1:
        node = _node(frontier.pop(), node)
        size >>= 1
    frontier.append(node)


def _shown(row: sa.Row) -> list[str]:  # type: ignore[type-arg]
    """shareplatform/audit/log.py shown_objects, over a stored entry."""
    if row.outcome != "allow":
        return []
    try:
        shown = json.loads(row.detail or "{}").get("shown")
    except (ValueError, AttributeError):
        shown = None
    if isinstance(shown, list):
        return list(dict.fromkeys(str(x) for x in shown))
    return [row.object_id] if row.action.endswith(".read") and row.object_id else []


def _batches(bind: sa.Connection, columns: Sequence[sa.ColumnElement]):  # type: ignore[no-untyped-def, type-arg]
    last = 0
    while True:
        rows = bind.execute(
            sa.select(*columns).where(_log.c.seq > last).order_by(_log.c.seq).limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("body", sa.LargeBinary(), nullable=True))
    op.add_column("audit_head", sa.Column("frontier", sa.LargeBinary(), nullable=True))
    op.create_table(
        "audit_views",
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("object_id", "seq", name=op.f("pk_audit_views")),
    )
    bind = op.get_bind()
    prev, frontier, size = GENESIS, [], 0
    columns = [c for c in _log.c if c.name != "body"]
    for rows in _batches(bind, columns):
        bodies, views = [], []
        for row in rows:
            body = _body(row)
            if row.seq != size + 1 or row.prev_hash != prev:
                raise RuntimeError(f"audit chain broken at entry {size + 1}: not converting it")
            prev = hashlib.sha256(prev + body).digest()
            if row.hash != prev:
                raise RuntimeError(f"audit entry {row.seq} has been altered: not converting it")
            _append(frontier, size, body)
            size = row.seq
            bodies.append({"s": row.seq, "b": body})
            views += [
                {"object_id": o, "seq": row.seq, "actor_id": row.actor_id, "at": row.at}
                for o in _shown(row)
            ]
        bind.execute(
            _log.update().where(_log.c.seq == sa.bindparam("s")).values(body=sa.bindparam("b")),
            bodies,
        )
        if views:
            bind.execute(_views.insert(), views)
    head = bind.execute(sa.select(_head.c.seq, _head.c.hash).where(_head.c.id == 1)).one()
    if head.seq != size or head.hash != prev:
        raise RuntimeError(f"the audit chain ends at {size} but its head records {head.seq}")
    bind.execute(
        _head.update()
        .where(_head.c.id == 1)
        .values(frontier=b"".join(frontier), checkpoint_seq=0, checkpoint_at=None)
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("hash")
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.alter_column("frontier", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("hash")
    # the chain's checkpoints signed chain hashes, which no longer exist: signed tree heads follow
    op.drop_table("audit_checkpoints")
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )


def downgrade() -> None:
    """Back to the hash chain, recomputed from the entries; the chain's checkpoints start empty
    (signing needs the key, which migrations do not hold)."""
    op.drop_table("audit_checkpoints")
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )
    op.drop_table("audit_views")
    op.add_column("audit_log", sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.LargeBinary(length=32), nullable=True))
    op.add_column("audit_head", sa.Column("hash", sa.LargeBinary(length=32), nullable=True))
    bind = op.get_bind()
    prev = GENESIS
    for rows in _batches(bind, [_log.c.seq, _log.c.body]):
        links = []
        for row in rows:
            digest = hashlib.sha256(prev + row.body).digest()
            links.append({"s": row.seq, "p": prev, "h": digest})
            prev = digest
        bind.execute(
            _log.update()
            .where(_log.c.seq == sa.bindparam("s"))
            .values(prev_hash=sa.bindparam("p"), hash=sa.bindparam("h")),
            links,
        )
    bind.execute(
        _head.update()
        .where(_head.c.id == 1)
        .values(hash=prev, checkpoint_seq=0, checkpoint_at=None)
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.drop_column("body")
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.alter_column("hash", existing_type=sa.LargeBinary(length=32), nullable=False)
        batch_op.drop_column("frontier")
