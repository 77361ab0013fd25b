"""KEK rotation, retirement and crypto-shredding, against real data on each backend."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shareplatform.crypto import keyring
from shareplatform.crypto.envelope import IntegrityError
from shareplatform.crypto.keys import KeyProblem
from shareplatform.crypto.models import DataKey
from shareplatform.records.admin import shred_record
from shareplatform.records.services import count_visible, record_page, timeline
from tests.factories import ctx_for
from tests.security import builders


@pytest.fixture
def small(platform):  # type: ignore[no-untyped-def]
    return builders.small_world(platform)


def _bodies(platform, username: str, ids) -> list[str]:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, username)
        return [record_page(ctx, rid)[0].body for rid in ids]


def _vault(platform):  # type: ignore[no-untyped-def]
    return platform.access._vault  # noqa: SLF001 - the CLI's rotate command uses the same handle


def test_rotate_then_retire(platform, small) -> None:  # type: ignore[no-untyped-def]
    ids = small.secret_ids + small.official_ids
    before = _bodies(platform, small.honsu, ids)
    for level in ("SECRET", "OFFICIAL-SENSITIVE"):
        # the current version is in use and current: refused
        with (
            platform.transaction() as session,
            pytest.raises(KeyProblem, match="still wraps|current"),
        ):
            keyring.retire(session, platform.provider, level, 1)
        version, count = keyring.rotate(
            platform.db.transaction, platform.provider, _vault(platform), level, batch=2
        )
        assert version == 2
        assert count >= 3  # the records' keys (and for OFFICIAL-SENSITIVE the nominal's)
    with platform.transaction() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(DataKey)
                .where(DataKey.kek_version == 1, DataKey.level == "SECRET")
            )
            == 0
        )
    assert _bodies(platform, small.honsu, ids) == before  # content untouched, keys re-wrapped
    with platform.transaction() as session:
        keyring.retire(session, platform.provider, "SECRET", 1)
        with pytest.raises(KeyProblem, match="still wraps"):
            keyring.retire(session, platform.provider, "SECRET", 2)
    platform.provider.destroy_kek("SECRET", 1)
    assert _bodies(platform, small.honsu, ids) == before  # nothing needed the retired key
    with platform.transaction() as session, pytest.raises(KeyProblem, match="no active KEK"):
        keyring.retire(session, platform.provider, "SECRET", 1)


def test_retiring_a_version_in_use_is_refused(platform, small) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        keyring.begin_rotation(
            session, platform.provider, _vault(platform), "SECRET"
        )  # v2, nothing re-wrapped yet
    with (
        platform.transaction() as session,
        pytest.raises(KeyProblem, match="still wraps 3 data keys"),
    ):
        keyring.retire(session, platform.provider, "SECRET", 1)
    # new records use v2 while old ones still read under v1
    assert _bodies(platform, small.honsu, small.secret_ids[:1])[0].startswith("SECRET-ONLY-TEXT-0")


def test_shredded_record_unreadable_neighbours_readable(platform, small) -> None:  # type: ignore[no-untyped-def]
    victim = small.secret_ids[1]
    with platform.transaction() as session:
        shred_record(session, platform.access, str(victim), "retention period ended")
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, small.honsu)
        with pytest.raises(IntegrityError, match="shredded"):
            record_page(ctx, victim)
    neighbours = [r for r in small.secret_ids + small.official_ids if r != victim]
    assert all(body for body in _bodies(platform, small.honsu, neighbours))
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, small.honsu)
        items = timeline(ctx, small.case_id).items
        assert {getattr(i, "id", None) for i in items} == set(neighbours)
        assert count_visible(ctx, small.case_id) == len(neighbours)
