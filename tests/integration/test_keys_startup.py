"""Start-up against existing data refuses missing or different keys, clearly, creating nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from shareplatform.crypto.keys import KeyProblem
from shareplatform.platform import Platform
from tests.factories import fresh_platform, make_config
from tests.security import builders


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_missing_keys_dir_refused(platform, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    builders.small_world(platform)
    missing = tmp_path / "no-such-keys"
    other = Platform(make_config(platform.config.DATABASE_URL, missing))
    with pytest.raises(KeyProblem) as info:
        other.bind()
    message = str(info.value)
    assert "missing" in message and str(missing) in message
    assert "SHAREPLATFORM_KEYS_DIR" in message  # says what to do
    assert not missing.exists()  # no new keys were made
    other.db.dispose()


def test_different_keys_dir_refused(platform, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    builders.small_world(platform)
    # a complete, valid key set that belongs to another instance
    elsewhere = fresh_platform(
        f"sqlite:///{tmp_path / 'other.sqlite'}", tmp_path / "other-keys", policy=False
    )
    elsewhere.db.dispose()
    before = _files(tmp_path / "other-keys")
    other = Platform(make_config(platform.config.DATABASE_URL, tmp_path / "other-keys"))
    with pytest.raises(KeyProblem, match="is not the one this database was created with"):
        other.bind()
    assert _files(tmp_path / "other-keys") == before
    other.db.dispose()


def test_missing_kek_refused(platform, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The platform secrets are there but a level's KEK file is gone: refuse, naming it."""
    import shutil

    builders.small_world(platform)
    keys = Path(platform.config.KEYS_DIR)
    copy = tmp_path / "partial-keys"
    shutil.copytree(keys, copy)
    shutil.rmtree(copy / "kek" / "SECRET")
    before = _files(copy)
    other = Platform(make_config(platform.config.DATABASE_URL, copy))
    with pytest.raises(KeyProblem, match=r"KEK SECRET v1 is missing"):
        other.bind()
    assert _files(copy) == before
    other.db.dispose()


def test_same_keys_dir_binds(platform) -> None:  # type: ignore[no-untyped-def]
    small = builders.small_world(platform)
    other = Platform(make_config(platform.config.DATABASE_URL, Path(platform.config.KEYS_DIR)))
    other.bind()
    from shareplatform.records.services import record_page
    from tests.factories import ctx_for

    with other.transaction() as session:
        assert record_page(ctx_for(other, session, small.honsu), small.secret_ids[0])[
            0
        ].body.startswith("SECRET-ONLY")
    other.db.dispose()
