"""Measure 5 (audit verification rate) and the audit append cost, each against raw SHA-256 over
the same bytes: the RFC 9162 Merkle tree over the stored entry bodies."""

from __future__ import annotations

import hashlib
import time
import uuid

from sqlalchemy import select

from shareplatform.audit.log import Event
from shareplatform.audit.models import AuditEntry
from shareplatform.audit.verify import verify
from shareplatform.domain.labels import Classification
from shareplatform.platform import Platform

from .core import Result, median


def stored_bodies(platform: Platform, first_seq: int = 1) -> list[bytes]:
    """The exact bytes verify() hashes for each entry from `first_seq` on, in order."""
    with platform.db.transaction() as session:
        stmt = select(AuditEntry.body).where(AuditEntry.seq >= first_seq).order_by(AuditEntry.seq)
        return list(session.scalars(stmt.execution_options(yield_per=5000)))


def raw_tree(bodies: list[bytes]) -> bytes:
    """The baseline: leaf and node hashes of the tree (compact range), hashlib alone."""
    sha = hashlib.sha256
    frontier: list[bytes] = []
    for size, body in enumerate(bodies):
        node = sha(b"\x00" + body).digest()
        while size & 1:
            node = sha(b"\x01" + frontier.pop() + node).digest()
            size >>= 1
        frontier.append(node)
    return b"".join(frontier)


def _event(i: int) -> Event:
    rid = uuid.UUID(int=i * 2654435761 % (1 << 128))
    return Event(
        action="record.read",
        object_type="record",
        outcome="allow",
        label=Classification.parse(("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET")[i % 3]),
        object_id=str(rid),
        case_id=str(uuid.UUID(int=i % 997 + 1)),
        detail={"shown": [str(rid)], "withheld": 0},
    )


def _last_seq(platform: Platform) -> int:
    with platform.db.transaction() as session:
        return session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0


def append(platform: Platform, entries: int, batch: int = 1000) -> list[Result]:
    """`entries` appends via AccessLayer.record, `batch` a transaction; raw hashing interleaved."""
    access = platform.access
    app_times, raw_times, done = [], [], 0
    while done < entries:
        n = min(batch, entries - done)
        first = _last_seq(platform) + 1
        events = [_event(i) for i in range(done, done + n)]  # the caller's work, not the log's
        start = time.perf_counter()
        with platform.transaction() as session:
            for event in events:
                access.record(session, None, event)
        app_times.append((time.perf_counter() - start) / n)
        bodies = stored_bodies(platform, first)
        start = time.perf_counter()
        raw_tree(bodies)
        raw_times.append((time.perf_counter() - start) / len(bodies))
        done += n
    return [
        Result.compared(
            "audit",
            "audit append per entry (AccessLayer.record)",
            median(app_times) * 1e6,
            "us",
            "raw SHA-256 tree step, same bytes",
            median(raw_times) * 1e6,
            note=f"{entries:,} entries, {batch} per transaction (commit included), "
            "a signed checkpoint at each commit, one who-has-seen row per entry",
        )
    ]


def fill(platform: Platform, entries: int, block: int = 20_000) -> None:
    """Grow the log to `entries` through the real append path (AccessLayer.record, written by
    AuditLog.write_queued at commit), `block` entries a transaction: untimed, only the size."""
    done = _last_seq(platform)
    while done < entries:
        n = min(block, entries - done)
        events = [_event(i) for i in range(done, done + n)]
        with platform.transaction() as session:
            for event in events:
                platform.access.record(session, None, event)
        done += n


def verification(platform: Platform, rounds: int = 3) -> list[Result]:
    """Whole-log verification, with the display columns checked (what `audit verify` runs) and
    the tree alone (`columns=False`: only `seq, body` read), against the raw tree."""
    public = platform.signer.public_key
    bodies = stored_bodies(platform)
    rates: dict[bool, list[float]] = {True: [], False: []}
    raw_rates: list[float] = []
    count = 0

    def run_verify(columns: bool) -> None:
        nonlocal count
        with platform.db.transaction() as session:
            start = time.perf_counter()
            result = verify(session, public, columns=columns)
            elapsed = time.perf_counter() - start
        if not result.ok:
            raise AssertionError(f"audit log did not verify: {result.problems}")
        count = result.entries
        rates[columns].append(result.entries / elapsed)

    def run_raw() -> None:
        start = time.perf_counter()
        raw_tree(bodies)
        raw_rates.append(len(bodies) / (time.perf_counter() - start))

    for r in range(rounds):
        steps = [lambda: run_verify(True), lambda: run_verify(False), run_raw]
        for step in steps if r % 2 == 0 else steps[::-1]:
            step()
    raw_rate = median(raw_rates)
    out = []
    for columns, what in ((True, "tree + display columns"), (False, "tree only (seq, body)")):
        rate = median(rates[columns])
        out.append(
            Result.compared(
                "5 audit",
                f"audit.verify over {count:,} entries, {what}",
                rate,
                "entries/s",
                "raw RFC 9162 tree (leaf + node SHA-256), same bodies",
                raw_rate,
                goal=">= 1M entries/s",
                met=lambda v, r: v >= 1e6,
                note=("goal met" if rate >= 1e6 else f"{1e6 / rate:.1f}x short of 1M/s")
                + (
                    "; the display columns checked against each body and the who-has-seen index "
                    "against each read (a second pass)"
                    if columns
                    else "; (seq, body) read through the driver's cursor"
                ),
            )
        )
    return out
