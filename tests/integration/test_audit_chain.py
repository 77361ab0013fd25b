"""The audit chain: SQL tampering of any kind is detected and located; concurrent writers keep one
unbroken chain on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import LargeBinary, bindparam, func, select, text

from shareplatform import create_app
from shareplatform.audit import chain
from shareplatform.audit.log import Event
from shareplatform.audit.models import AuditCheckpoint, AuditEntry
from shareplatform.audit.verify import verify
from shareplatform.domain.labels import Classification

N = 60  # with TestConfig's checkpoint every 50 entries: checkpoints at 1 and 51 (or so)


def _fill(platform, n: int = N) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        for i in range(n):
            platform.access.record(
                session,
                None,
                Event(
                    action="test.event",
                    object_type="record",
                    outcome="done",
                    label=Classification.OFFICIAL,
                    object_id=f"obj-{i}",
                    detail={"i": i, "note": "x" * (i % 7)},
                ),
            )


def _verify(platform):  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return verify(session, platform.signer.public_key, batch=17)


def _sql(platform, statement: str, *binds, **params) -> None:  # type: ignore[no-untyped-def]
    with platform.db.engine.begin() as conn:
        conn.execute(text(statement).bindparams(*binds), params)


def _row(platform, seq: int) -> AuditEntry:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        entry = session.get(AuditEntry, seq)
        assert entry is not None
        session.expunge(entry)
        return entry


def _cli_verify(platform):  # type: ignore[no-untyped-def]
    app = create_app(platform.config)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    app.extensions["shareplatform"].db.dispose()
    return result


@pytest.fixture
def filled(platform):  # type: ignore[no-untyped-def]
    _fill(platform)
    result = _verify(platform)
    assert result.ok, result.problem
    assert result.entries == N and result.checkpoints >= 2
    return platform


def _assert_broken(platform, seq: int, words: str, cli: bool = True) -> None:  # type: ignore[no-untyped-def]
    result = _verify(platform)
    assert not result.ok
    assert result.first_broken == seq, result.problem
    assert words in result.problem
    if not cli:
        return
    out = _cli_verify(platform)
    assert out.exit_code != 0
    assert f"broken at entry {seq}" in out.output


def test_intact_chain_cli(filled) -> None:  # type: ignore[no-untyped-def]
    cli = _cli_verify(filled)
    assert cli.exit_code == 0, cli.output
    assert f"{N} entries" in cli.output


def test_edit_detected(filled) -> None:  # type: ignore[no-untyped-def]
    for seq, column, value in (
        (23, "reason", "nothing to see"),
        (12, "detail", '{"i":1}'),
        (5, "label", "SECRET"),
    ):
        _sql(filled, f"UPDATE audit_log SET {column} = :v WHERE seq = :s", v=value, s=seq)
        _assert_broken(filled, seq, "altered", cli=seq == 5)  # always the first broken entry


def test_edit_with_recomputed_hash_detected_at_next(filled) -> None:  # type: ignore[no-untyped-def]
    """An editor who recomputes the entry's own hash still breaks the link to the next one."""
    e = _row(filled, 30)
    values = (
        e.seq,
        chain.timestamp(e.at),
        e.actor_id or "",
        e.actor,
        e.action,
        e.object_type,
        e.object_id,
        e.case_id,
        e.label,
        "deny",
        e.reason,
        e.detail,
    )
    forged = chain.link(e.prev_hash, chain.encode(values))
    _sql(
        filled,
        "UPDATE audit_log SET outcome = 'deny', hash = :h WHERE seq = 30",
        bindparam("h", type_=LargeBinary()),
        h=forged,
    )
    _assert_broken(filled, 31, "does not follow", cli=False)


def test_delete_detected(filled) -> None:  # type: ignore[no-untyped-def]
    for seq in (51, 20, 1):
        _sql(filled, "DELETE FROM audit_log WHERE seq = :s", s=seq)
        _assert_broken(filled, seq, "missing", cli=seq == 1)


def test_delete_last_detected(filled) -> None:  # type: ignore[no-untyped-def]
    _sql(filled, "DELETE FROM audit_log WHERE seq = :s", s=N)
    result = _verify(filled)
    assert not result.ok and result.first_broken == N


def test_append_forged_entry_detected(filled) -> None:  # type: ignore[no-untyped-def]
    """A row added at the end (even with a correctly chained hash) disagrees with the chain head."""
    last = _row(filled, N)
    seq = N + 1
    at = last.at
    values = (
        seq,
        chain.timestamp(at),
        "",
        "system",
        "record.read",
        "record",
        "",
        "",
        "OFFICIAL",
        "allow",
        "",
        "{}",
    )
    digest = chain.link(last.hash, chain.encode(values))
    with filled.transaction() as session:
        session.add(
            AuditEntry(
                seq=seq,
                at=at,
                actor_id=None,
                actor="system",
                action="record.read",
                object_type="record",
                object_id="",
                case_id="",
                label="OFFICIAL",
                outcome="allow",
                reason="",
                detail="{}",
                prev_hash=last.hash,
                hash=digest,
            )
        )
    result = _verify(filled)
    assert not result.ok and result.first_broken == seq


def test_insert_in_the_middle_detected(filled) -> None:  # type: ignore[no-untyped-def]
    """Shift later entries up by one and slot a well-formed forged entry in at 25."""
    _sql(filled, "UPDATE audit_log SET seq = -seq WHERE seq >= 25")
    _sql(filled, "UPDATE audit_log SET seq = 1 - seq WHERE seq < 0")
    before = _row(filled, 24)
    at = before.at
    values = (
        25,
        chain.timestamp(at),
        "",
        "system",
        "record.read",
        "record",
        "",
        "",
        "OFFICIAL",
        "allow",
        "",
        "{}",
    )
    digest = chain.link(before.hash, chain.encode(values))
    with filled.transaction() as session:
        session.add(
            AuditEntry(
                seq=25,
                at=at,
                actor_id=None,
                actor="system",
                action="record.read",
                object_type="record",
                object_id="",
                case_id="",
                label="OFFICIAL",
                outcome="allow",
                reason="",
                detail="{}",
                prev_hash=before.hash,
                hash=digest,
            )
        )
    _assert_broken(filled, 26, "does not follow", cli=False)


def test_reorder_detected(filled) -> None:  # type: ignore[no-untyped-def]
    _sql(filled, "UPDATE audit_log SET seq = -1 WHERE seq = 40")
    _sql(filled, "UPDATE audit_log SET seq = 40 WHERE seq = 41")
    _sql(filled, "UPDATE audit_log SET seq = 41 WHERE seq = -1")
    _assert_broken(filled, 40, "", cli=False)


def _checkpoint_seqs(platform) -> list[int]:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return list(session.scalars(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.seq)))


def test_checkpoint_signature_tamper_detected(filled) -> None:  # type: ignore[no-untyped-def]
    seq = _checkpoint_seqs(filled)[-1]
    with filled.transaction() as session:
        sig = bytearray(session.get(AuditCheckpoint, seq).signature)  # type: ignore[union-attr]
    sig[10] ^= 0x04
    _sql(
        filled,
        "UPDATE audit_checkpoints SET signature = :s WHERE seq = :q",
        bindparam("s", type_=LargeBinary()),
        s=bytes(sig),
        q=seq,
    )
    _assert_broken(filled, seq, "invalid signature")


def test_checkpoint_hash_tamper_detected(filled) -> None:  # type: ignore[no-untyped-def]
    seq = _checkpoint_seqs(filled)[0]
    _sql(
        filled,
        "UPDATE audit_checkpoints SET hash = :h WHERE seq = :q",
        bindparam("h", type_=LargeBinary()),
        h=b"\x11" * 32,
        q=seq,
    )
    _assert_broken(filled, seq, "does not match", cli=False)


def test_checkpoint_signed_by_another_key_detected(filled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.audit.log import Signer

    seq = _checkpoint_seqs(filled)[-1]
    with filled.transaction() as session:
        cp = session.get(AuditCheckpoint, seq)
        assert cp is not None
        forged = Signer(b"\x07" * 32).sign(chain.checkpoint_message(cp.seq, cp.hash))
    _sql(
        filled,
        "UPDATE audit_checkpoints SET signature = :s WHERE seq = :q",
        bindparam("s", type_=LargeBinary()),
        s=forged,
        q=seq,
    )
    _assert_broken(filled, seq, "invalid signature")


def test_concurrent_writers_keep_one_chain(platform) -> None:  # type: ignore[no-untyped-def]
    threads_n, per_thread = 4, 40
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def work(k: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with (
                    platform.db.sessions() as session,
                    session.begin(),
                ):  # each thread its own session
                    platform.access.record(
                        session,
                        None,
                        Event(
                            action="test.concurrent",
                            object_type="record",
                            outcome="done",
                            label=Classification.OFFICIAL,
                            object_id=f"t{k}-{i}",
                            detail={"thread": k, "i": i},
                        ),
                    )
                    if i % 3 == 0:  # some transactions append two entries
                        platform.access.record(
                            session,
                            None,
                            Event(
                                action="test.concurrent",
                                object_type="record",
                                outcome="done",
                                label=Classification.OFFICIAL,
                                object_id=f"t{k}-{i}b",
                            ),
                        )
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors[:3]
    expected = threads_n * (per_thread + len(range(0, per_thread, 3)))
    result = _verify(platform)
    assert result.ok, result.problem
    with platform.transaction() as session:
        count = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "test.concurrent")
        )
        prevs = session.scalar(select(func.count(func.distinct(AuditEntry.prev_hash))))
        total = session.scalar(select(func.count()).select_from(AuditEntry))
    assert count == expected
    assert prevs == total  # no two entries share a predecessor: the chain never forked
