"""An insider with database write access and no keys inserts an append-only MAPPA object straight
into its table, copying a real row's shape: the hash chain still verifies, but the object has no
creation entry, and `audit verify` names it (shareplatform/audit/orphans.py). SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, select, text

import shareplatform.models  # noqa: F401  (every feature's tables)
from shareplatform import create_app
from shareplatform.audit import orphans
from shareplatform.audit.verify import verify
from shareplatform.db import Base
from shareplatform.mappa import models as m
from shareplatform.mappa.services import withdraw_meeting
from tests.integration.mappa_world import build_world, decide, decision_data, disclosure, meeting


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    world = build_world(platform)
    with platform.transaction() as s:
        first, second = meeting(world, s), meeting(world, s)
        decide(world, s, decision_data(world, first.id, [disclosure(world, s).id]))
        withdraw_meeting(world.ctx(s, "honsu"), first.id, "Recorded twice by mistake")
    world.ids["meeting"], world.ids["spare"] = first.id, second.id
    return world


def _verify(platform):  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return verify(session, platform.signer.public_key)


def _copy_row(platform, model, **changes) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """Insert a copy of the model's first row with a new id and `changes`, as plain SQL."""
    table = model.__table__
    with platform.transaction() as session:
        row = dict(session.execute(select(table).limit(1)).mappings().one())
    row.update(id=uuid.uuid4(), **changes)
    with platform.db.engine.begin() as conn:
        conn.execute(table.insert().values(row))
    return row["id"]


def test_every_kind_names_real_tables_and_columns() -> None:
    for name, columns in orphans.tables():
        table = Base.metadata.tables[name]
        assert set(columns) <= set(table.c.keys()), name


def test_objects_written_by_the_application_have_their_entries(world) -> None:  # type: ignore[no-untyped-def]
    result = _verify(world.platform)
    assert result.ok and result.orphans == (), result.problems


def test_a_supersession_inserted_without_its_entry_is_named(world) -> None:  # type: ignore[no-untyped-def]
    forged = _copy_row(world.platform, m.MeetingSupersession, meeting_id=world.ids["spare"])
    result = _verify(world.platform)
    assert not result.ok and result.first_broken is None  # the chain itself holds
    assert result.orphans == (
        f"meeting correction or withdrawal {forged} (mappa_meeting_supersessions) has no audit "
        "entry: it was written outside the application",
    )
    app = create_app(world.platform.config)
    try:
        out = app.test_cli_runner().invoke(args=["audit", "verify"])
    finally:
        app.extensions["shareplatform"].db.dispose()
    assert out.exit_code == 1 and str(forged) in out.output, out.output
    assert "objects without their audit entry" in out.output


def test_an_action_status_step_inserted_without_its_entry_is_named(world) -> None:  # type: ignore[no-untyped-def]
    """Several status rows share an action: the entry must name this very row (detail "id")."""
    with world.platform.transaction() as s:
        step = s.scalars(select(m.ActionStatus)).first()
        assert step is not None
        action_id, steps = step.action_id, s.query(m.ActionStatus).count()
    forged = _copy_row(world.platform, m.ActionStatus, action_id=action_id, position=steps + 5)
    result = _verify(world.platform)
    assert [o.split(" (")[0] for o in result.orphans] == [f"action status change {forged}"]


def test_a_decision_inserted_without_its_entry_is_named(world) -> None:  # type: ignore[no-untyped-def]
    forged = _copy_row(world.platform, m.MappaDecision, supersedes_id=None)
    assert f"decision or correction {forged} (mappa_decisions)" in " ".join(
        _verify(world.platform).orphans
    )


def test_deleting_the_entry_is_the_chain_s_problem_and_the_object_s(world) -> None:  # type: ignore[no-untyped-def]
    """Removing the creation entry instead breaks the tree, and the object is named as well."""
    with world.platform.transaction() as s:
        seq = s.scalar(
            text("SELECT max(seq) FROM audit_log WHERE action = 'mappa.meeting.withdraw'")
        )
    with world.platform.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_views WHERE seq = :s"), {"s": seq})
        conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": seq})
    result = _verify(world.platform)
    assert result.first_broken == seq
    assert any(o.startswith("meeting correction or withdrawal") for o in result.orphans)


def test_primary_keys_are_uuids() -> None:
    """The anti-join renders `id` and the naming column as str(UUID) text."""
    for name, columns in orphans.tables():
        table = Base.metadata.tables[name]
        assert [c.name for c in inspect(table).primary_key] == ["id"], name
        for column in columns:
            assert table.c[column].type.python_type is uuid.UUID, (name, column)
