"""Migration 0007 on a log written by the hash chain: bodies, frontier and the who-has-seen
index are backfilled and the converted log verifies; downgrading gives the same chain back; a
broken chain is refused, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from shareplatform.audit import chain
from shareplatform.audit.log import Event
from shareplatform.audit.models import AuditView
from shareplatform.audit.verify import verify
from shareplatform.migrate import downgrade, upgrade
from shareplatform.platform import Platform
from tests.factories import make_config

N = 130


def _old_rows(n: int) -> list[dict[str, object]]:
    """Entries as the chain wrote them (shareplatform/audit/log.py before 0007)."""
    prev, rows = b"\x00" * 32, []
    start = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    for seq in range(1, n + 1):
        at = start + timedelta(seconds=seq, microseconds=seq * 7)
        actor_id = uuid.UUID(int=seq % 3 + 1) if seq % 2 else None
        shown = [str(uuid.UUID(int=1000 + seq % 5)), str(uuid.UUID(int=2000))]
        detail = chain.canonical_detail({"shown": shown, "withheld": 0} if seq % 4 == 0 else {})
        values = {
            "seq": seq,
            "at": at,
            "actor_id": actor_id,
            "actor": f"user{seq % 3}",
            "action": "case.timeline" if seq % 4 == 0 else "record.read",
            "object_type": "record",
            "object_id": str(uuid.UUID(int=3000 + seq)),
            "case_id": str(uuid.UUID(int=7)),
            "label": "OFFICIAL",
            "outcome": "deny" if seq % 5 == 0 else "allow",
            "reason": "",
            "detail": detail,
        }
        encoded = chain.encode(
            [seq, chain.timestamp(at), actor_id or "", *list(values.values())[3:]]
        )
        digest = hashlib.sha256(prev + encoded).digest()
        rows.append({**values, "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


def _tables(engine: sa.Engine) -> tuple[sa.TableClause, sa.TableClause]:
    """The 0006 shapes of the two tables, typed as the application typed them."""
    log = sa.table(
        "audit_log",
        sa.column("seq", sa.BigInteger),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor_id", sa.Uuid),
        *(sa.column(name, sa.String) for name in chain.FIELDS[3:]),
        sa.column("prev_hash", sa.LargeBinary),
        sa.column("hash", sa.LargeBinary),
    )
    head = sa.table(
        "audit_head", sa.column("seq", sa.BigInteger), sa.column("hash", sa.LargeBinary)
    )
    return log, head


def _write_chain(url: str, rows: list[dict[str, object]]) -> None:
    engine = sa.create_engine(url)
    log, head = _tables(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(log))
        conn.execute(log.insert(), rows)
        conn.execute(head.update().values(seq=len(rows), hash=rows[-1]["hash"]))
    engine.dispose()


def test_upgrade_backfills_and_downgrade_restores_the_chain(db_url: str, tmp_path: Path) -> None:
    upgrade(db_url, "0006")
    rows = _old_rows(N)
    _write_chain(db_url, rows)
    upgrade(db_url)
    platform = Platform(make_config(db_url, tmp_path / "keys"))
    platform.bind()
    try:
        with platform.transaction() as session:
            result = verify(session, platform.signer.public_key)
            assert result.ok and result.size == N, result.problems
            seen = session.scalars(
                sa.select(AuditView.seq).where(AuditView.object_id == str(uuid.UUID(int=2000)))
            ).all()
            # allowed listings that showed it (every 4th, not the refused every 20th)
            assert sorted(seen) == [s for s in range(4, N + 1, 4) if s % 5]
            assert session.scalar(sa.select(sa.func.count()).select_from(AuditView)) == sum(
                (2 if s % 4 == 0 else 1) for s in range(1, N + 1) if s % 5
            )
        with platform.transaction() as session:  # the first commit signs the converted log
            platform.access.record(
                session, None, Event(action="test.after", object_type="x", outcome="done")
            )
        with platform.transaction() as session:
            result = verify(session, platform.signer.public_key)
            assert result.ok and result.checkpoints == 1 and result.size == N + 1
    finally:
        platform.close()
    downgrade(db_url, "0006")
    engine = sa.create_engine(db_url)
    log, head = _tables(engine)
    with engine.connect() as conn:
        chained = conn.execute(
            sa.select(log.c.seq, log.c.prev_hash, log.c.hash).order_by(log.c.seq)
        )
        got = [tuple(r) for r in chained][:N]
        assert got == [(r["seq"], r["prev_hash"], r["hash"]) for r in rows]
        assert conn.execute(sa.select(head.c.seq)).scalar() == N + 1
    engine.dispose()


def test_a_broken_chain_is_not_converted(db_url: str) -> None:
    upgrade(db_url, "0006")
    rows = _old_rows(20)
    rows[11]["reason"] = "edited after the fact"
    _write_chain(db_url, rows)
    with pytest.raises(RuntimeError, match="audit entry 12 has been altered"):
        upgrade(db_url)
