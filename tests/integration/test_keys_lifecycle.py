"""KEK rotation, retirement and crypto-shredding, against real data on each backend."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from shareplatform.audit.models import AuditEntry
from shareplatform.audit.verify import verify
from shareplatform.crypto import keyring
from shareplatform.crypto.keys import KeyProblem
from shareplatform.crypto.models import DataKey, KeyHolder
from shareplatform.db import utcnow
from shareplatform.domain.errors import NotFound
from shareplatform.platform import Platform
from shareplatform.records.admin import shred_record
from shareplatform.records.services import count_visible, record_page, timeline
from tests.factories import ctx_for, make_config
from tests.security import builders


@pytest.fixture
def small(platform):  # type: ignore[no-untyped-def]
    return builders.small_world(platform)


def _bodies(platform, username: str, ids) -> list[str]:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, username)
        return [record_page(ctx, rid)[0].body for rid in ids]


def _count(platform, level: str, version: int) -> int:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return keyring.key_counts(session, level).get((level, version), 0)


def _actions(platform) -> list[str]:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("keys.%"))
                .order_by(AuditEntry.seq)
            )
        )


def test_rotate_then_retire(platform, small) -> None:  # type: ignore[no-untyped-def]
    keys = platform.key_admin
    ids = small.secret_ids + small.official_ids
    before = _bodies(platform, small.honsu, ids)
    for level in ("SECRET", "OFFICIAL-SENSITIVE"):
        with pytest.raises(KeyProblem, match="current version"):
            keys.retire(level, 1)
        done = keys.rotate(level, batch=2)
        assert (done.version, done.resumed) == (2, False)
        assert done.rewrapped >= 3  # the records' keys (and for OFFICIAL-SENSITIVE the nominal's)
        assert _count(platform, level, 1) == 0
    assert _bodies(platform, small.honsu, ids) == before  # content untouched, keys re-wrapped
    assert keys.retire("SECRET", 1) is False
    assert 1 not in platform.provider.kek_versions("SECRET")  # destroyed
    assert _bodies(platform, small.honsu, ids) == before  # nothing needed the retired key
    with pytest.raises(KeyProblem, match="already retired and destroyed"):
        keys.retire("SECRET", 1)
    with pytest.raises(KeyProblem, match="current version"):
        keys.retire("SECRET", 2)
    # every step is in the audit log, in order, and the log verifies
    assert _actions(platform)[-5:] == [
        "keys.rotate.start",
        "keys.kek.create",
        "keys.rotate.finish",
        "keys.retire.start",
        "keys.retire.finish",
    ]
    with platform.transaction() as session:
        assert verify(session, platform.signer.public_key).ok


def test_new_data_keys_use_the_current_version_read_in_the_writing_transaction(
    platform, small
) -> None:  # type: ignore[no-untyped-def]
    """A second process that bound before the rotation wraps its next key under the new version."""
    from datetime import date

    from shareplatform.accounts.models import User
    from shareplatform.records.models import Record

    other = Platform(make_config(platform.config.DATABASE_URL, platform.config.KEYS_DIR))
    other.bind()  # started before the rotation, as a running worker is
    try:
        platform.key_admin.rotate("SECRET")
        text_ = "written by a process started earlier"
        spec = builders.Spec(
            small.case_id, "MINUTES", "SECRET", "", "NSD", date.today(), "Late minute", text_
        )
        with other.transaction() as session:
            author = session.scalar(select(User.id).where(User.username == small.honsu))
            new = builders.records(other, session, author, [spec])
        with platform.transaction() as session:
            version = session.scalar(
                select(DataKey.kek_version)
                .join(Record, Record.data_key_id == DataKey.id)
                .where(Record.id == new[0])
            )
        assert version == 2
        assert platform.key_admin.retire("SECRET", 1) is False
        assert _bodies(platform, small.honsu, new) == [text_]
    finally:
        other.close()


def test_the_database_refuses_a_data_key_under_a_version_that_is_not_current(
    platform, small
) -> None:  # type: ignore[no-untyped-def]
    platform.key_admin.rotate("SECRET")
    wrapped = platform.provider.wrap("SECRET", 1, os.urandom(32))
    row = {"id": "0" * 32, "level": "SECRET", "v": 1, "w": wrapped, "at": utcnow()}
    insert = text(
        "INSERT INTO data_keys (id, level, kek_version, wrapped, created_at)"
        " VALUES (:id, :level, :v, :w, :at)"
    )
    with pytest.raises(DatabaseError, match="not current"), platform.transaction() as session:
        session.execute(insert, row)
    # nor may an existing key be moved back under the old version
    with pytest.raises(DatabaseError, match="not current"), platform.transaction() as session:
        session.execute(
            text("UPDATE data_keys SET kek_version = 1, wrapped = :w WHERE level = 'SECRET'"),
            {"w": wrapped},
        )
    # shredding (wrapped set to NULL) is still allowed
    with platform.transaction() as session:
        shred_record(session, platform.key_admin, str(small.secret_ids[0]), "retention ended")


def test_an_interrupted_rotation_is_finished_not_repeated(platform, small) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        # what a rotation killed right after its switch leaves: v2 current, keys still under v1
        platform.provider.create_kek("SECRET", 2)
        keyring.make_current(session, platform.provider, "SECRET", 2)
    assert _count(platform, "SECRET", 1) == 3
    with pytest.raises(KeyProblem, match="still wraps 3 data keys.*keys rotate --level SECRET"):
        platform.key_admin.retire("SECRET", 1)
    done = platform.key_admin.rotate("SECRET", batch=2)
    assert (done.version, done.rewrapped, done.resumed) == (2, 3, True)
    assert platform.provider.kek_versions("SECRET") == [1, 2]  # no third version
    assert _actions(platform)[-2:] == ["keys.rotate.resume", "keys.rotate.finish"]
    assert platform.key_admin.retire("SECRET", 1) is False


def test_a_kek_never_recorded_is_discarded_not_adopted(platform, small) -> None:  # type: ignore[no-untyped-def]
    platform.provider.create_kek("SECRET", 2)  # a rotation killed after making the key
    before = platform.provider.check_value("SECRET", 2)
    done = platform.key_admin.rotate("SECRET")
    assert done.version == 2 and not done.resumed
    assert platform.provider.check_value("SECRET", 2) != before  # a fresh key
    with platform.transaction() as session:
        start = session.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "keys.rotate.start")
        )
    assert '"discarded":[2]' in start


def test_a_kek_made_after_an_audited_start_is_adopted_and_audited(platform, small) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.access.keys import _key_event

    with platform.transaction() as session:  # a rotation killed after making its KEK
        platform.key_admin._record(
            session, _key_event("keys.rotate.start", "SECRET", 2, {"discarded": []})
        )
    platform.provider.create_kek("SECRET", 2)
    made = platform.provider.check_value("SECRET", 2)
    done = platform.key_admin.rotate("SECRET")
    assert (done.version, done.resumed) == (2, True)
    assert platform.provider.check_value("SECRET", 2) == made  # adopted, not replaced
    assert _actions(platform)[-4:] == [
        "keys.rotate.start",
        "keys.rotate.resume",
        "keys.kek.create",
        "keys.rotate.finish",
    ]
    with platform.transaction() as session:
        created = session.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "keys.kek.create")
        )
        assert verify(session, platform.signer.public_key).ok
    assert '"found_on_resume":true' in created


def test_shredding_twice_changes_and_audits_nothing_more(platform, small) -> None:  # type: ignore[no-untyped-def]
    victim = str(small.secret_ids[0])
    for _ in range(2):
        with platform.transaction() as session:
            shred_record(session, platform.key_admin, victim, "retention ended")
    with platform.transaction() as session:
        entries = session.scalar(
            select(func.count()).where(
                AuditEntry.action == "record.shred", AuditEntry.object_id == victim
            )
        )
        assert entries == 1
        assert verify(session, platform.signer.public_key).ok


def test_an_interrupted_retirement_completes_on_rerun(platform, small) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.crypto.models import KekState

    platform.key_admin.rotate("SECRET")
    with platform.transaction() as session:  # killed after marking, before destroying
        row = keyring.kek(session, "SECRET", 1)
        keyring.mark(session, row, KekState.RETIRING)
    assert platform.key_admin.retire("SECRET", 1) is True
    assert platform.provider.kek_versions("SECRET") == [2]
    with platform.transaction() as session:  # killed after destroying, before the final mark
        assert keyring.kek(session, "SECRET", 1).state == "retired"


def test_retire_waits_for_running_processes_to_see_the_rotation(platform, small) -> None:  # type: ignore[no-untyped-def]
    watch = platform.key_watch
    assert watch.refresh()["SECRET"] == 1  # this process reports v1 as current
    platform.key_admin.rotate("SECRET")
    with pytest.raises(KeyProblem, match="1 running process.*v1 as current"):
        platform.key_admin.retire("SECRET", 1)
    assert watch.refresh()["SECRET"] == 2  # its next tick reports v2
    assert platform.key_admin.retire("SECRET", 1) is False
    # a process that stopped reporting no longer holds anything up once its report expires
    with platform.transaction() as session:
        session.add(
            KeyHolder(
                process="gone:1:x",
                host="gone",
                pid=1,
                current="SECRET:2",
                seen_at=utcnow() - timedelta(minutes=5),
                expires_at=utcnow() - timedelta(minutes=4),
            )
        )
    platform.key_admin.rotate("SECRET")
    assert watch.refresh()["SECRET"] == 3
    assert platform.key_admin.retire("SECRET", 2) is False


def test_the_watch_forgets_retired_keks(platform, small) -> None:  # type: ignore[no-untyped-def]
    _bodies(platform, small.honsu, small.secret_ids)  # v1 is now cached in this process
    assert ("SECRET", 1) in platform.provider._cache
    other = Platform(make_config(platform.config.DATABASE_URL, platform.config.KEYS_DIR))
    other.bind()
    try:
        other.key_admin.rotate("SECRET")
        platform.key_watch.refresh()
        other.key_admin.retire("SECRET", 1)  # retired by another process
    finally:
        other.close()
    assert ("SECRET", 1) in platform.provider._cache
    platform.key_watch.refresh()
    assert ("SECRET", 1) not in platform.provider._cache


def test_shredded_record_unreadable_neighbours_readable(platform, small) -> None:  # type: ignore[no-untyped-def]
    victim = small.secret_ids[1]
    with platform.transaction() as session:
        shred_record(session, platform.key_admin, str(victim), "retention period ended")
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, small.honsu)
        with pytest.raises(NotFound):  # gone for good: answered as absent, not as tampered
            record_page(ctx, victim)
    neighbours = [r for r in small.secret_ids + small.official_ids if r != victim]
    assert all(body for body in _bodies(platform, small.honsu, neighbours))
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, small.honsu)
        items = timeline(ctx, small.case_id).items
        assert {getattr(i, "id", None) for i in items} == set(neighbours)
        assert count_visible(ctx, small.case_id) == len(neighbours)
    with platform.transaction() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(DataKey).where(DataKey.wrapped.is_(None))
            )
            == 1
        )


def test_a_key_shredded_while_its_batch_is_rewrapped_stays_shredded(platform, small) -> None:  # type: ignore[no-untyped-def]
    """Rotation reads a batch, re-wraps it with no transaction open, then stores it: the store is
    a compare-and-set on the old (version, wrapped) pair, so a key shredded in between is not
    brought back."""
    with platform.transaction() as session:
        platform.provider.create_kek("SECRET", 2)
        keyring.make_current(session, platform.provider, "SECRET", 2)
        found = keyring.stale_keys(session, "SECRET", 1, None, batch=10)
        assert keyring.versions_to_rewrap(session, "SECRET") == [1]
    assert len(found.keys) == 3
    changes = keyring.rewrap_keys(platform.provider, "SECRET", 1, 2, found.keys)
    with platform.transaction() as session:
        victim = session.scalars(
            select(DataKey).where(DataKey.level == "SECRET").order_by(DataKey.id)
        ).first()
        keyring.shred(session, victim.id)
    with platform.transaction() as session:
        assert keyring.store_rewrapped(session, "SECRET", 1, 2, changes) == 2
    with platform.transaction() as session:
        assert session.get(DataKey, victim.id).wrapped is None
        assert keyring.versions_to_rewrap(session, "SECRET") == []
    assert _count(platform, "SECRET", 2) == 2
    provider = platform.provider
    for _, old, new in changes:  # the same data key, under the new version
        assert provider.unwrap("SECRET", 2, new) == provider.unwrap("SECRET", 1, old)


def test_rewrap_keys_matches_the_providers_wrap_and_unwrap(platform) -> None:  # type: ignore[no-untyped-def]
    provider = platform.provider
    provider.create_kek("SECRET", 2)
    dek = os.urandom(32)
    wrapped = provider.wrap("SECRET", 1, dek)
    [(where, old, new)] = keyring.rewrap_keys(provider, "SECRET", 1, 2, [("row", wrapped)])
    assert (where, old) == ("row", wrapped)
    assert provider.unwrap("SECRET", 2, new) == dek
