"""Key rotation and retirement while real gunicorn workers write SECRET notes, and key commands
killed (SIGKILL) at each step that writes, on SQLite and PostgreSQL.

Every note the API acknowledged must read back after every worker has restarted; no data key may
remain on a retired version; the audit log must verify; an interrupted command must complete when
run again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from shareplatform.accounts import tokens
from shareplatform.accounts.models import User
from shareplatform.audit.models import AuditEntry
from shareplatform.crypto import keyring
from shareplatform.platform import Platform
from shareplatform.records.services import record_page
from tests.factories import ctx_for, fresh_platform, make_config
from tests.security import builders
from tests.support.load import Writers, wait_for
from tests.support.processes import Gunicorn, flask, instance_env

pytestmark = pytest.mark.slow


@dataclass
class Instance:
    url: str
    keys: Path
    env: dict[str, str]
    case_id: str
    honsu: str
    secret_ids: list[str]
    tokens: list[str] = field(default_factory=list)


@pytest.fixture
def instance(db_url: str, tmp_path: Path) -> Instance:
    keys = tmp_path / "keys"
    platform = fresh_platform(db_url, keys)
    small = builders.small_world(platform)
    raw = []
    with platform.transaction() as session:
        honsu = session.scalar(select(User).where(User.username == small.honsu))
        for n in range(4):
            _, token = tokens.create_token(
                session, platform.access, honsu, f"writer {n}", "read-write", 1, by_system=True
            )
            raw.append(token)
    platform.close()
    return Instance(
        db_url,
        keys,
        instance_env(db_url, keys),
        str(small.case_id),
        small.honsu,
        [str(i) for i in small.secret_ids],
        raw,
    )


def _ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return str(result.stdout)


def test_notes_written_during_rotation_and_retirement_survive_a_restart(
    instance: Instance, tmp_path: Path
) -> None:
    log = tmp_path / "gunicorn.log"
    with Gunicorn(instance.env, workers=2, log=log) as server:
        with Writers(server.url, instance.case_id, instance.tokens) as writers:
            wait_for(lambda: len(writers.acked) >= 20, 60)
            rotate_start = time.monotonic()
            rotated = _ok(
                flask(instance.env, "keys", "rotate", "--level", "SECRET", "--batch", "5")
            )
            rotate_end = time.monotonic()
            assert "now v2" in rotated
            # the workers report v2 within their next tick; retire is refused until they do
            attempts = 0
            while True:
                attempts += 1
                retired = flask(
                    instance.env, "keys", "retire", "--level", "SECRET", "--version", "1"
                )
                if retired.returncode == 0:
                    break
                assert "running process" in retired.stderr, retired.stderr
                assert attempts < 30, retired.stderr
                time.sleep(0.5)
            retire_end = time.monotonic()
            wait_for(lambda: sum(1 for a in writers.acked if a.at > retire_end) >= 20, 60)
        acked = list(writers.acked)

    during = [a for a in acked if rotate_start <= a.at <= rotate_end]
    after = [a for a in acked if a.at > retire_end]
    assert during and after, (len(during), len(after))
    assert not [r for r in writers.refused if not r.startswith("429")], writers.refused[:5]

    # every worker restarted: each acknowledged note reads back, through the API
    readable = 0
    with Gunicorn(instance.env, workers=2, log=log) as server, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {instance.tokens[0]}"
        for note in acked:
            resp = http.get(f"{server.url}/api/v1/records/{note.record_id}", timeout=30)
            assert resp.status_code == 200, (note.record_id, resp.status_code, resp.text[:300])
            assert resp.json()["body"] == note.body
            readable += 1
        timeline = http.get(f"{server.url}/api/v1/cases/{instance.case_id}/records", timeout=60)
        assert timeline.status_code == 200

    status = _ok(flask(instance.env, "keys", "status"))
    assert re.search(r"SECRET\s+1 retired", status), status
    assert not (instance.keys / "kek" / "SECRET" / "v1.key").exists()
    assert "audit chain intact" in _ok(flask(instance.env, "audit", "verify"))
    print(  # the figures the closing note quotes
        f"\n[{instance.url.split(':')[0]}] acknowledged {len(acked)} notes: {len(during)} during "
        f"rotation, {len(after)} after retirement; {readable} readable after restart; "
        f"retire attempts {attempts}"
    )
    assert readable == len(acked)


# -- commands killed at each step ---------------------------------------------------------------
def _keys_state(instance: Instance) -> str:
    return _ok(flask(instance.env, "keys", "status"))


@contextmanager
def _platform(instance: Instance) -> Iterator[Platform]:
    """A platform of this process over the instance's database and keys, closed afterwards."""
    platform = Platform(make_config(instance.url, instance.keys))
    try:
        yield platform
    finally:
        platform.close()


def _secret_bodies_readable(instance: Instance) -> None:
    with _platform(instance) as platform:
        with platform.transaction() as session:
            ctx = ctx_for(platform, session, instance.honsu)
            bodies = [record_page(ctx, rid)[0].body for rid in instance.secret_ids]
        assert all(b.startswith("SECRET-ONLY-TEXT") for b in bodies)
        with platform.transaction() as session:
            actions = list(
                session.scalars(
                    select(AuditEntry.action)
                    .where(AuditEntry.action.like("keys.%"))
                    .order_by(AuditEntry.seq)
                )
            )
            counts = keyring.key_counts(session, "SECRET")
            current = keyring.current_versions(session)["SECRET"]
    assert set(counts) == {("SECRET", current)}  # nothing left under an older version
    return actions  # type: ignore[return-value]


def _killed(result) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == -9, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def _once_each(actions: list[str], steps: list[str]) -> None:
    """Each step audited exactly once: none missing, none repeated by the re-run."""
    assert sorted(a for a in actions if a in steps) == sorted(steps), actions


_ROTATE_POINTS = [
    "keys.rotate.started",  # start audited, no KEK yet
    "keys.rotate.before_kek",
    "keys.rotate.after_kek_created",  # KEK made, creation not yet audited, not yet current
    "keys.rotate.after_switch",  # current, nothing re-wrapped
    "keys.rotate.batch:2",  # part re-wrapped
]


@pytest.mark.parametrize("point", _ROTATE_POINTS)
def test_a_killed_rotation_completes_when_run_again(instance: Instance, point: str) -> None:
    faulty = {**instance.env, "SHAREPLATFORM_FAULT": point}
    _killed(flask(faulty, "keys", "rotate", "--level", "SECRET", "--batch", "1"))
    again = _ok(flask(instance.env, "keys", "rotate", "--level", "SECRET", "--batch", "1"))
    assert "interrupted rotation finished; now v2" in again  # no third version
    assert sorted(p.name for p in (instance.keys / "kek" / "SECRET").iterdir()) == [
        "v1.key",
        "v2.key",
    ]
    actions = _secret_bodies_readable(instance)
    steps = ["keys.rotate.start", "keys.rotate.resume", "keys.kek.create", "keys.rotate.finish"]
    _once_each(actions, steps)
    creation = _kek_creation(instance, "SECRET:v2")
    assert ('"found_on_resume":true' in creation) == (point == "keys.rotate.after_kek_created")
    _ok(flask(instance.env, "keys", "retire", "--level", "SECRET", "--version", "1"))
    assert "audit chain intact" in _ok(flask(instance.env, "audit", "verify"))


def _kek_creation(instance: Instance, object_id: str) -> str:
    with _platform(instance) as platform, platform.transaction() as session:
        return str(
            session.scalar(
                select(AuditEntry.detail).where(
                    AuditEntry.action == "keys.kek.create", AuditEntry.object_id == object_id
                )
            )
        )


@pytest.mark.parametrize("point", ["keys.retire.after_mark", "keys.retire.after_destroy"])
def test_a_killed_retirement_completes_when_run_again(instance: Instance, point: str) -> None:
    _ok(flask(instance.env, "keys", "rotate", "--level", "SECRET"))
    faulty = {**instance.env, "SHAREPLATFORM_FAULT": point}
    _killed(flask(faulty, "keys", "retire", "--level", "SECRET", "--version", "1"))
    status = _keys_state(instance)
    assert re.search(r"SECRET\s+1 retiring", status), status
    assert "completes it" in status
    assert (instance.keys / "kek" / "SECRET" / "v1.key").exists() == (
        point == "keys.retire.after_mark"
    )
    again = _ok(flask(instance.env, "keys", "retire", "--level", "SECRET", "--version", "1"))
    assert "completing an interrupted retirement" in again
    assert not (instance.keys / "kek" / "SECRET" / "v1.key").exists()
    assert re.search(r"SECRET\s+1 retired", _keys_state(instance))
    actions = _secret_bodies_readable(instance)
    assert actions[-2:] == ["keys.retire.start", "keys.retire.finish"]
    _once_each(actions, ["keys.rotate.start", "keys.kek.create", "keys.rotate.finish"])
    assert actions.count("keys.retire.start") == actions.count("keys.retire.finish") == 1
    assert "audit chain intact" in _ok(flask(instance.env, "audit", "verify"))


def test_a_killed_shred_completes_when_run_again(instance: Instance) -> None:
    victim, *others = instance.secret_ids
    shred = ("keys", "shred", victim, "--reason", "retention period ended")
    _killed(flask({**instance.env, "SHAREPLATFORM_FAULT": "keys.shred.destroyed"}, *shred))
    assert _shred_entries(instance, victim) == 0  # nothing of the killed run was committed
    instance.secret_ids = [victim, *others]
    _secret_bodies_readable(instance)  # the victim still reads: its key was not destroyed
    assert f"record {victim} shredded" in _ok(flask(instance.env, *shred))
    assert f"record {victim} shredded" in _ok(flask(instance.env, *shred))  # idempotent
    assert _shred_entries(instance, victim) == 1
    instance.secret_ids = others
    _secret_bodies_readable(instance)  # the neighbours still read
    assert "audit chain intact" in _ok(flask(instance.env, "audit", "verify"))


def _shred_entries(instance: Instance, record_id: str) -> int:
    from sqlalchemy import func

    with _platform(instance) as platform, platform.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    AuditEntry.action == "record.shred", AuditEntry.object_id == record_id
                )
            )
            or 0
        )
