"""Backup and restore of a SQLite deployment end to end: populate, back up while the witness
holds checkpoints, restore into a fresh path with the same keys, and every record opens through
the access layer and `audit verify` passes. Keys are never in the backup."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import select

from shareplatform import create_app
from shareplatform.records.models import Record
from shareplatform.records.services import record_page
from tests.support import factories as f


def _populate(platform) -> dict:  # type: ignore[no-untyped-def]
    """Records at every level on two cases; returns record id -> (reader, expected body)."""
    bodies = {}
    with platform.transaction() as s:
        honsu = f.user(platform, s, "honsu.h", role="HONSU", vetting="DV", nsd_unit="North")
        com = f.user(platform, s, "com.cole", role="COM", nsd_unit="North")
        for ref in ("BK-1", "BK-2"):
            c = f.case(platform, s, ref, team=[(com, "COM")], panel=[(honsu, "HONSU")])
            for label in ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET"):
                body = f"{ref} {label} body"
                r = f.record(platform, s, c.id, honsu, label=label, body=body)
                bodies[r.id] = ("honsu.h", body)
        platform.access.audit.checkpoint(s)  # the witness file gets a line
    with platform.transaction() as s:  # reads are audited too
        for rid, (reader, _) in bodies.items():
            record_page(f.ctx_for(platform, s, reader), rid)
        platform.access.audit.checkpoint(s)
    return bodies


def _run(app, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_backup_and_restore_into_a_fresh_path(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    source = f.fresh_platform(f"sqlite:///{tmp_path / 'live' / 'db.sqlite'}", keys)
    bodies = _populate(source)
    app = f.app_for(source)
    witness = Path(source.config.AUDIT_WITNESS)
    assert witness.read_text().count("\n") >= 2

    made = _run(app, "backup", "create", str(tmp_path / "backup"))
    assert "Keys are NOT in the backup" in made and str(keys.resolve()) in made
    backup_files = sorted(p.name for p in (tmp_path / "backup").iterdir())
    assert backup_files == ["audit-witness.jsonl", "database.sqlite3", "manifest.json"]
    assert not list((tmp_path / "backup").rglob("*.key"))
    refused = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "backup")])
    assert refused.exit_code == 1 and "not empty" in refused.output
    app.extensions["shareplatform"].close()
    source.close()

    restored_url = f"sqlite:///{tmp_path / 'restored' / 'db.sqlite'}"
    config = dataclasses.replace(
        f.make_config(restored_url, keys),
        AUDIT_WITNESS=str(tmp_path / "restored" / "audit-witness.jsonl"),
    )
    fresh = create_app(config)
    assert "keys match" in _run(fresh, "backup", "restore", str(tmp_path / "backup"))
    again = fresh.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "backup")])
    assert again.exit_code == 1 and "--replace" in again.output
    assert "audit chain intact" in _run(fresh, "audit", "verify")

    platform = fresh.extensions["shareplatform"]
    with platform.transaction() as s:
        assert set(s.scalars(select(Record.id))) == set(bodies)
        for rid, (reader, body) in bodies.items():
            view, _ = record_page(f.ctx_for(platform, s, reader), rid)
            assert view.body == body
    assert "audit chain intact" in _run(fresh, "audit", "verify")
    platform.close()


def test_postgres_is_pointed_at_pg_dump(tmp_path: Path) -> None:
    config = f.make_config("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path / "keys")
    result = create_app(config).test_cli_runner().invoke(args=["backup", "create", "x"])
    assert result.exit_code == 1 and "pg_dump" in result.output
