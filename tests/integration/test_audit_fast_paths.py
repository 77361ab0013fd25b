"""The audit log's fast paths agree with the slow ones, on SQLite and PostgreSQL: entries written
through the driver are stored as the models would store them (so verify's batch check of the
display columns passes without the entry-by-entry check), blocks of any size and alignment hash
to the same tree, and a tampered column is still named when the batch check hands over."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from shareplatform.audit import chain, merkle
from shareplatform.audit import verify as verify_module
from shareplatform.audit.log import Event
from shareplatform.audit.models import AuditEntry, AuditView
from shareplatform.audit.verify import verify
from shareplatform.domain.labels import Classification
from shareplatform.platform import Platform


def _event(i: int) -> Event:
    return Event(
        action="record.read" if i % 2 else "case.view",
        object_type="record",
        outcome="allow",
        label=Classification.OFFICIAL,
        object_id=f"obj-{i}",
        case_id=f"case-{i % 3}",
        reason="émigré ünïcode" if i % 5 == 0 else "",
        detail={"i": i, "shown": [f"rec-{i}", f"rec-{i}"]} if i % 3 == 0 else {"i": i},
    )


def _append(platform: Platform, n: int, actor: uuid.UUID | None) -> None:
    with platform.transaction() as session:
        for i in range(n):
            platform.access.audit.append(session, actor, "someone", _event(i))


def _verify(platform: Platform, **kwargs):  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return verify(session, platform.signer.public_key, batch=16, **kwargs)


def test_driver_writes_are_stored_as_the_models_store_them(platform, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    actor = uuid.uuid4()
    _append(platform, 40, actor)
    _append(platform, 7, None)

    def exact(*args: object) -> None:
        raise AssertionError("an honest batch needed the entry-by-entry check")

    monkeypatch.setattr(verify_module, "_check_columns_exactly", exact)
    result = _verify(platform)
    assert result.ok and result.size == 47, result.problems
    with platform.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        views = session.scalars(select(AuditView).where(AuditView.seq == 1)).all()
        for row in rows:  # read back through the ORM: the columns the body encodes
            fields = (row.seq, chain.timestamp(row.at), row.actor_id or "", row.actor)
            assert chain.decode(row.body)["at"] == fields[1]
            assert chain.encode((*fields, *_rest(row))) == row.body
        assert rows[0].actor_id == actor and rows[0].at.tzinfo is not None
        assert [v.object_id for v in views] == ["rec-0"] and views[0].at == rows[0].at


def _rest(row: AuditEntry) -> tuple[str, ...]:
    return (
        row.action,
        row.object_type,
        row.object_id,
        row.case_id,
        row.label,
        row.outcome,
        row.reason,
        row.detail,
    )


@pytest.mark.parametrize("blocks", [(1, 1, 1), (5, 64, 3), (100, 27)])
def test_blocks_of_any_size_make_the_same_tree(platform, blocks) -> None:  # type: ignore[no-untyped-def]
    audit = platform.access.audit
    audit.every, audit.interval = 10**9, timedelta(days=1)
    for n in blocks:
        _append(platform, n, None)
    with platform.transaction() as session:
        bodies = session.scalars(select(AuditEntry.body).order_by(AuditEntry.seq)).all()
    expected = merkle.root([merkle.leaf_hash(b) for b in bodies])
    assert _verify(platform).root == expected == _verify(platform, columns=False).root


def test_a_tampered_column_is_named_after_the_batch_check(platform) -> None:  # type: ignore[no-untyped-def]
    _append(platform, 40, uuid.uuid4())
    with platform.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET reason = 'edited' WHERE seq = 21"))
        conn.execute(text("UPDATE audit_log SET actor_id = NULL WHERE seq = 33"))
    result = _verify(platform)
    assert not result.ok
    assert result.problems[0].startswith("entry 21 has been altered: its reason")
    assert result.problems[1].startswith("entry 33 has been altered: its actor_id")
    assert _verify(platform, columns=False).ok  # the bodies themselves are intact
