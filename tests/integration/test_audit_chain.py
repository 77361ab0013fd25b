"""The verifiable audit log: an insider with database write access and no key rewrites,
truncates, re-links or deletes, and `audit verify` names what was done, on SQLite and PostgreSQL.
Concurrent writers keep one tree."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import LargeBinary, bindparam, func, select, text

from shareplatform import create_app
from shareplatform.audit import chain, merkle, witness
from shareplatform.audit.log import Event, Signer
from shareplatform.audit.models import AuditCheckpoint, AuditEntry
from shareplatform.audit.verify import verify
from shareplatform.domain.labels import Classification


def _event(i: int, action: str = "test.event") -> Event:
    return Event(
        action=action,
        object_type="record",
        outcome="done",
        label=Classification.OFFICIAL,
        object_id=f"obj-{i}",
        detail={"i": i, "note": "x" * (i % 7)},
    )


def _fill(platform, n: int, checkpoint: bool = False) -> int:  # type: ignore[no-untyped-def]
    """`n` entries in one transaction, optionally signed at its end; the log's size after."""
    with platform.transaction() as session:
        for i in range(n):
            platform.access.record(session, None, _event(i))
        if checkpoint:
            platform.access.audit.checkpoint(session)
    return _size(platform)


def _size(platform) -> int:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _witness(platform) -> Path:  # type: ignore[no-untyped-def]
    return Path(platform.config.AUDIT_WITNESS)


def _verify(platform, **kwargs):  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return verify(
            session, platform.signer.public_key, batch=17, witness_path=_witness(platform), **kwargs
        )


def _sql(platform, statement: str, *binds, **params) -> None:  # type: ignore[no-untyped-def]
    with platform.db.engine.begin() as conn:
        conn.execute(text(statement).bindparams(*binds), params)


def _blob(name: str):  # type: ignore[no-untyped-def]
    return bindparam(name, type_=LargeBinary())


def _cli(platform, *args: str):  # type: ignore[no-untyped-def]
    app = create_app(platform.config)
    result = app.test_cli_runner().invoke(args=list(args))
    app.extensions["shareplatform"].db.dispose()
    return result


# -- what an insider without the key can do ------------------------------------------------------
def _rewrite(platform, seq: int, **changes: str) -> None:  # type: ignore[no-untyped-def]
    """Change an entry's columns and write the body that matches them: a consistent forgery."""
    with platform.transaction() as session:
        e = session.get(AuditEntry, seq)
        assert e is not None
        for name, value in changes.items():
            setattr(e, name, value)
        e.body = chain.encode(
            (
                e.seq,
                chain.timestamp(e.at),
                e.actor_id or "",
                e.actor,
                e.action,
                e.object_type,
                e.object_id,
                e.case_id,
                e.label,
                e.outcome,
                e.reason,
                e.detail,
            )
        )


def _recompute_head(platform) -> None:  # type: ignore[no-untyped-def]
    """Rebuild the head's size and frontier from whatever entries remain."""
    frontier: list[bytes] = []
    with platform.transaction() as session:
        bodies = session.scalars(select(AuditEntry.body).order_by(AuditEntry.seq)).all()
    for size, body in enumerate(bodies):
        merkle.frontier_append(frontier, size, merkle.leaf_hash(body))
    _sql(
        platform,
        "UPDATE audit_head SET seq = :n, frontier = :f WHERE id = 1",
        _blob("f"),
        n=len(bodies),
        f=merkle.pack(frontier),
    )


def _checkpoints(platform) -> list[int]:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return list(session.scalars(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.seq)))


@pytest.fixture
def filled(platform):  # type: ignore[no-untyped-def]
    """Checkpoints (database and witness) at A and B, then 10 entries no checkpoint covers yet."""
    audit = platform.access.audit
    audit.every, audit.interval = 10**9, timedelta(days=1)  # only the checkpoints made here
    platform.a = _fill(platform, 25, checkpoint=True)
    platform.b = _fill(platform, 30, checkpoint=True)
    platform.n = _fill(platform, 10)
    result = _verify(platform)
    assert result.ok, result.problems
    assert result.size == platform.n and result.witnessed == platform.b
    assert {platform.a, platform.b} <= set(_checkpoints(platform))
    return platform


def _assert_broken(platform, *words: str, cli: bool = False) -> list[str]:  # type: ignore[no-untyped-def]
    result = _verify(platform)
    assert not result.ok
    for w in words:
        assert any(w in p for p in result.problems), (w, result.problems)
    if cli:
        out = _cli(platform, "audit", "verify")
        assert out.exit_code != 0 and "broken at entry" in out.output
        for w in words:
            assert w in out.output, out.output
    return list(result.problems)


def test_intact_log_cli(filled) -> None:  # type: ignore[no-untyped-def]
    out = _cli(filled, "audit", "verify")
    assert out.exit_code == 0, out.output
    assert f"tree size {filled.n}" in out.output and f"the witness saw {filled.b}" in out.output


def test_edited_display_column_is_named(filled) -> None:  # type: ignore[no-untyped-def]
    _sql(filled, "UPDATE audit_log SET actor = 'somebody.else' WHERE seq = :s", s=filled.a + 3)
    _assert_broken(filled, f"entry {filled.a + 3} has been altered: its actor", cli=True)
    _sql(filled, "UPDATE audit_log SET detail = '{}', label = 'SECRET' WHERE seq = 5")
    problems = _assert_broken(filled, "entry 5 has been altered: its label, detail")
    assert problems[0].startswith("entry 5 ")  # in order of entry


def test_who_has_seen_rows_deleted_or_added_are_named(platform) -> None:  # type: ignore[no-untyped-def]
    """Hiding a reader (or framing one) in the who-has-seen index does not pass verify."""
    with platform.transaction() as session:
        for i in range(3):
            platform.access.record(
                session,
                None,
                Event(
                    action="case.timeline",
                    object_type="record",
                    outcome="allow",
                    object_id=f"case-{i}",
                    detail={"shown": [f"rec-{i}-a", f"rec-{i}-b"]},
                ),
            )
            platform.access.record(session, None, _event(i))
    assert _verify(platform).ok
    _sql(platform, "DELETE FROM audit_views WHERE object_id = 'rec-1-b'")
    _assert_broken(platform, "entry 3: its who-has-seen rows do not match it")
    _sql(platform, "DELETE FROM audit_views WHERE object_id = 'rec-1-a'")
    _assert_broken(platform, "entry 3: its who-has-seen rows are missing")
    _sql(
        platform,
        "INSERT INTO audit_views (object_id, seq, actor_id, at) "
        "SELECT 'framed', 2, actor_id, at FROM audit_views WHERE seq = 1 LIMIT 1",
    )
    _assert_broken(platform, "who-has-seen rows for entry 2 that no read showed")


def test_rewrite_after_the_last_checkpoint_with_recomputed_tree_and_head(filled) -> None:  # type: ignore[no-untyped-def]
    """Rewrite an entry under B, recompute the tree and head, delete checkpoint B so that the
    entry lies after the database's last checkpoint: the witness still holds B."""
    seq = filled.a + 4
    _rewrite(filled, seq, outcome="deny", reason="never happened")
    _recompute_head(filled)
    _sql(filled, "DELETE FROM audit_checkpoints WHERE seq = :s", s=filled.b)
    assert _checkpoints(filled)[-1] == filled.a
    _assert_broken(
        filled,
        f"checkpoint at {filled.b} was deleted",
        f"the entries up to {filled.b} have been rewritten",
        cli=True,
    )


def test_rewrite_under_a_kept_checkpoint_is_located_between_checkpoints(filled) -> None:  # type: ignore[no-untyped-def]
    _rewrite(filled, filled.a + 4, outcome="deny")
    _recompute_head(filled)
    _assert_broken(
        filled, f"entries {filled.a + 1}-{filled.b} do not match the signed checkpoint at"
    )


def test_truncation_with_the_head_moved_back(filled) -> None:  # type: ignore[no-untyped-def]
    keep = filled.b - 7
    _sql(filled, "DELETE FROM audit_log WHERE seq > :k", k=keep)
    _sql(filled, "DELETE FROM audit_checkpoints WHERE seq > :k", k=keep)
    _recompute_head(filled)
    _assert_broken(
        filled,
        f"the log has been truncated: the witness saw {filled.b} entries, "
        f"the database holds {keep}",
        f"checkpoint at {filled.b} was deleted",
        cli=True,
    )


def test_truncation_is_seen_by_the_stored_checkpoint_without_a_witness(filled) -> None:  # type: ignore[no-untyped-def]
    _witness(filled).unlink()
    _sql(filled, "DELETE FROM audit_log WHERE seq > :k", k=filled.b - 2)
    _recompute_head(filled)
    _assert_broken(filled, f"the checkpoint at {filled.b} covers entries")


def test_deleted_checkpoints_and_rewritten_history(filled) -> None:  # type: ignore[no-untyped-def]
    """Every signed checkpoint deleted, an early entry rewritten, tree and head recomputed."""
    _sql(filled, "DELETE FROM audit_checkpoints")
    _rewrite(filled, 3, actor="scapegoat")
    _recompute_head(filled)
    _assert_broken(
        filled,
        f"checkpoint at {filled.a} was deleted",
        f"checkpoint at {filled.b} was deleted",
        f"the entries up to {filled.a} have been rewritten",
    )


def test_forged_checkpoint(filled) -> None:  # type: ignore[no-untyped-def]
    """A rewrite under B, with B re-signed by a key that is not the platform's."""
    _rewrite(filled, filled.a + 2, outcome="deny")
    _recompute_head(filled)
    with filled.transaction() as session:
        frontier = merkle.unpack(session.get(AuditCheckpoint, filled.b).frontier)  # type: ignore[union-attr]
        bodies = session.scalars(
            select(AuditEntry.body).where(AuditEntry.seq <= filled.b).order_by(AuditEntry.seq)
        ).all()
        root = merkle.root([merkle.leaf_hash(b) for b in bodies])
        cp = session.get(AuditCheckpoint, filled.b)
        assert cp is not None and frontier
        forged = Signer(b"\x07" * 32).sign(
            chain.checkpoint_note(filled.b, root, chain.timestamp(cp.at))
        )
    _sql(
        filled,
        "UPDATE audit_checkpoints SET root = :r, signature = :s WHERE seq = :q",
        _blob("r"),
        _blob("s"),
        r=root,
        s=forged,
        q=filled.b,
    )
    _assert_broken(filled, f"checkpoint at {filled.b} has an invalid signature")


def test_forged_witness_line(filled) -> None:  # type: ignore[no-untyped-def]
    line = json.loads(_witness(filled).read_text().splitlines()[-1])
    line["size"] = filled.n
    with _witness(filled).open("a") as f:
        f.write(json.dumps(line) + "\n")
    _assert_broken(filled, f"the checkpoint at {filled.n} has an invalid signature")


def test_missing_and_reordered_entries(filled) -> None:  # type: ignore[no-untyped-def]
    _sql(filled, "UPDATE audit_log SET seq = -1 WHERE seq = 40")
    _sql(filled, "UPDATE audit_log SET seq = 40 WHERE seq = 41")
    _sql(filled, "UPDATE audit_log SET seq = 41 WHERE seq = -1")
    _assert_broken(filled, "entry 40 has been altered: its seq")
    _sql(filled, "DELETE FROM audit_log WHERE seq = 20")
    result = _verify(filled)
    assert not result.ok and result.first_broken == 20 and "entry 20 is missing" in result.problem


def test_incremental_verify_from_a_checkpoint(filled) -> None:  # type: ignore[no-untyped-def]
    result = _verify(filled, from_size=filled.a)
    assert result.ok, result.problems
    assert result.entries == filled.n - filled.a
    out = _cli(filled, "audit", "verify", "--from", str(filled.a))
    assert out.exit_code == 0 and f"from the checkpoint at {filled.a}" in out.output
    # an edit before the starting point is out of its reach; one after it is not
    _sql(filled, "UPDATE audit_log SET actor = 'x' WHERE seq = :s", s=filled.a + 1)
    _assert_broken(filled, f"entry {filled.a + 1} has been altered")
    # a starting frontier that does not hash to its signed root is refused
    _sql(
        filled,
        "UPDATE audit_checkpoints SET frontier = :f WHERE seq = :s",
        _blob("f"),
        f=b"\x01" * 32 * bin(filled.a).count("1"),
        s=filled.a,
    )
    result = _verify(filled, from_size=filled.a)
    assert not result.ok and "frontier does not hash to its root" in result.problem
    assert "no stored checkpoint at 7" in _verify(filled, from_size=7).problem


def test_witness_is_written_only_after_commit(platform) -> None:  # type: ignore[no-untyped-def]
    path = _witness(platform)
    before = witness.read(path)
    with pytest.raises(RuntimeError), platform.transaction() as session:
        platform.access.record(session, None, _event(1, action="policy.apply"))
        platform.access.audit.checkpoint(session)
        assert witness.read(path) == before  # signed, not yet committed: not witnessed
        raise RuntimeError("rolled back")
    assert witness.read(path) == before and _verify(platform).ok
    with platform.transaction() as session:  # a privileged change commits with a checkpoint
        platform.access.record(session, None, _event(2, action="user.disable"))
        assert witness.read(path) == before
    lines = witness.read(path)
    assert len(lines) == len(before) + 1
    last = lines[-1].checkpoint
    assert last is not None and last.size == _size(platform)
    assert last.signed_by(platform.signer.public_key)


def test_witness_failure_never_fails_the_commit(platform, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    platform.access.audit.witness = witness.FileWitness(blocker / "witness.jsonl")
    with platform.transaction() as session:
        platform.access.record(session, None, _event(1, action="policy.apply"))
    assert _size(platform) >= 1
    assert "could not record the checkpoint" in caplog.text


def test_inclusion_proof_round_trip_and_tampering(filled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proof_file = tmp_path / "proof.json"
    out = _cli(filled, "audit", "prove", str(filled.a + 5), "--output", str(proof_file))
    assert out.exit_code == 0, out.output
    proof = json.loads(proof_file.read_text())
    assert proof["tree_size"] == filled.b and proof["leaf_index"] == filled.a + 4
    ok = _cli(filled, "audit", "verify-export", str(proof_file))
    assert ok.exit_code == 0, ok.output
    assert f"audit entry {filled.a + 5} (test.event" in ok.output

    forged = dict(proof, entry={**proof["entry"]})
    fields = {**proof["entry"]["fields"], "outcome": "deny"}
    forged["entry"]["fields"] = fields
    forged["entry"]["body"] = (
        __import__("base64")
        .b64encode(chain.encode([fields[name] for name in chain.FIELDS]))
        .decode()
    )
    bad = tmp_path / "forged.json"
    bad.write_text(json.dumps(forged))
    refused = _cli(filled, "audit", "verify-export", str(bad))
    assert refused.exit_code == 1 and "is not in the signed tree" in refused.output

    # an entry no checkpoint covers yet: proving it signs the tree first (and witnesses it)
    tail = _cli(filled, "audit", "prove", str(filled.n))
    assert tail.exit_code == 0, tail.output
    assert json.loads(tail.output)["tree_size"] == filled.n
    assert _verify(filled).witnessed == filled.n
    assert _cli(filled, "audit", "prove", str(filled.n + 50)).exit_code == 1


def test_concurrent_writers_keep_one_tree(platform) -> None:  # type: ignore[no-untyped-def]
    threads_n, per_thread = 4, 40
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def work(k: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with platform.db.sessions() as session, session.begin():
                    platform.access.record(session, None, _event(i, action="test.concurrent"))
                    if i % 3 == 0:  # some transactions append two entries, some sign
                        platform.access.record(session, None, _event(i, action="policy.test"))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors[:3]
    result = _verify(platform)
    assert result.ok, result.problems
    expected = threads_n * (per_thread + len(range(0, per_thread, 3)))
    with platform.transaction() as session:
        concurrent = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.in_(("test.concurrent", "policy.test")))
        )
    assert concurrent == expected
    # every privileged commit was witnessed, in the database's order of sizes
    sizes = [line.checkpoint.size for line in witness.read(_witness(platform)) if line.checkpoint]
    assert len(sizes) >= threads_n * len(range(0, per_thread, 3))
    assert set(sizes) <= set(_checkpoints(platform))
