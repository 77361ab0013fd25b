"""Key providers (shareplatform/crypto/keys.py): the file provider in a tmp_path, and the test-only
in-memory provider (tests/unit/memory_keys.py), held to the same contract."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from shareplatform.crypto.keys import SECRETS, FileKeyProvider, KeyProblem, KeyProvider
from tests.unit.memory_keys import MemoryKeyProvider

# A factory returns (a provider, a function giving a second provider on the same key store,
# as a second process would see it).
Pair = tuple[KeyProvider, Callable[[], KeyProvider]]


def _file(tmp_path: Path) -> Pair:
    root = tmp_path / "keys"
    return FileKeyProvider(root), lambda: FileKeyProvider(root)


def _memory(tmp_path: Path) -> Pair:
    first = MemoryKeyProvider()
    return first, lambda: MemoryKeyProvider(first.store)


@pytest.fixture(params=[_file, _memory], ids=["file", "memory"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Pair:
    return request.param(tmp_path)


@pytest.fixture
def provider(pair: Pair) -> KeyProvider:
    return pair[0]


def test_conforms_to_the_protocol(provider: KeyProvider) -> None:
    for method in (
        "kek_versions",
        "create_kek",
        "destroy_kek",
        "forget",
        "wrap",
        "unwrap",
        "check_value",
        "secret",
        "create_secret",
    ):
        assert callable(getattr(provider, method))
    assert isinstance(provider.name, str) and provider.name


def test_versions_are_per_level_and_sorted(provider: KeyProvider) -> None:
    assert provider.kek_versions("SECRET") == []
    provider.create_kek("SECRET", 2)
    provider.create_kek("SECRET", 1)
    provider.create_kek("OFFICIAL", 1)
    assert provider.kek_versions("SECRET") == [1, 2]
    assert provider.kek_versions("OFFICIAL") == [1]
    assert provider.kek_versions("OFFICIAL-SENSITIVE") == []


def test_creating_an_existing_kek_is_refused(provider: KeyProvider) -> None:
    provider.create_kek("OFFICIAL", 1)
    with pytest.raises(KeyProblem, match="already exists"):
        provider.create_kek("OFFICIAL", 1)


def test_wrap_unwrap_round_trip(provider: KeyProvider) -> None:
    provider.create_kek("SECRET", 1)
    dek = os.urandom(32)
    wrapped = provider.wrap("SECRET", 1, dek)
    assert len(wrapped) == 40 and dek not in wrapped
    assert provider.unwrap("SECRET", 1, wrapped) == dek


def test_each_level_and_version_has_its_own_kek(provider: KeyProvider) -> None:
    for level in ("OFFICIAL", "SECRET"):
        provider.create_kek(level, 1)
    provider.create_kek("SECRET", 2)
    dek = bytes(32)
    wrapped = {k: provider.wrap(*k, dek) for k in (("OFFICIAL", 1), ("SECRET", 1), ("SECRET", 2))}
    assert len(set(wrapped.values())) == 3
    with pytest.raises(InvalidUnwrap):
        provider.unwrap("OFFICIAL", 1, wrapped[("SECRET", 1)])
    with pytest.raises(InvalidUnwrap):
        provider.unwrap("SECRET", 2, wrapped[("SECRET", 1)])


def test_tampered_wrapped_key_is_refused(provider: KeyProvider) -> None:
    provider.create_kek("OFFICIAL", 1)
    wrapped = bytearray(provider.wrap("OFFICIAL", 1, os.urandom(32)))
    wrapped[5] ^= 0x80
    with pytest.raises(InvalidUnwrap):
        provider.unwrap("OFFICIAL", 1, bytes(wrapped))


def test_missing_kek_is_a_key_problem(provider: KeyProvider) -> None:
    with pytest.raises(KeyProblem, match="missing"):
        provider.wrap("SECRET", 9, bytes(32))
    with pytest.raises(KeyProblem):
        provider.check_value("SECRET", 9)


def test_check_value_identifies_a_kek_without_revealing_it(pair: Pair) -> None:
    provider, again = pair
    provider.create_kek("SECRET", 1)
    provider.create_kek("SECRET", 2)
    value = provider.check_value("SECRET", 1)
    assert len(value) == 16 and int(value, 16) >= 0
    assert provider.check_value("SECRET", 1) == value
    assert again().check_value("SECRET", 1) == value  # another process agrees
    assert provider.check_value("SECRET", 2) != value


def test_a_second_process_unwraps_what_the_first_wrapped(pair: Pair) -> None:
    provider, again = pair
    provider.create_kek("OFFICIAL-SENSITIVE", 1)
    dek = os.urandom(32)
    assert (
        again().unwrap("OFFICIAL-SENSITIVE", 1, provider.wrap("OFFICIAL-SENSITIVE", 1, dek)) == dek
    )


def test_destroy_is_idempotent_and_final(provider: KeyProvider) -> None:
    provider.create_kek("SECRET", 1)
    wrapped = provider.wrap("SECRET", 1, os.urandom(32))
    provider.destroy_kek("SECRET", 1)
    provider.destroy_kek("SECRET", 1)  # already gone: still fine
    provider.destroy_kek("SECRET", 7)  # never existed: fine too
    assert provider.kek_versions("SECRET") == []
    with pytest.raises(KeyProblem):
        provider.unwrap("SECRET", 1, wrapped)


def test_destroying_one_version_leaves_the_others(provider: KeyProvider) -> None:
    provider.create_kek("SECRET", 1)
    provider.create_kek("SECRET", 2)
    dek = os.urandom(32)
    wrapped = provider.wrap("SECRET", 2, dek)
    provider.destroy_kek("SECRET", 1)
    assert provider.kek_versions("SECRET") == [2]
    assert provider.unwrap("SECRET", 2, wrapped) == dek


def test_forget_drops_a_kek_another_process_destroyed(pair: Pair) -> None:
    provider, again = pair
    provider.create_kek("SECRET", 1)
    dek = os.urandom(32)
    wrapped = provider.wrap("SECRET", 1, dek)  # now cached in this process
    again().destroy_kek("SECRET", 1)
    assert provider.unwrap("SECRET", 1, wrapped) == dek  # still cached here
    provider.forget("SECRET", 1)
    with pytest.raises(KeyProblem):
        provider.unwrap("SECRET", 1, wrapped)
    provider.forget("SECRET", 1)  # forgetting twice is harmless


def test_rewrap_under_a_new_version_keeps_the_data_key(provider: KeyProvider) -> None:
    """Rotation re-wraps data keys without touching content."""
    provider.create_kek("OFFICIAL", 1)
    dek = os.urandom(32)
    old = provider.wrap("OFFICIAL", 1, dek)
    provider.create_kek("OFFICIAL", 2)
    new = provider.wrap("OFFICIAL", 2, provider.unwrap("OFFICIAL", 1, old))
    provider.destroy_kek("OFFICIAL", 1)
    assert provider.unwrap("OFFICIAL", 2, new) == dek


@pytest.mark.parametrize("name", SECRETS)
def test_platform_secrets(pair: Pair, name: str) -> None:
    provider, again = pair
    assert provider.secret(name) is None
    value = provider.create_secret(name)
    assert len(value) == 32
    assert provider.secret(name) == value
    assert again().secret(name) == value
    others = [provider.secret(n) for n in SECRETS if n != name]
    assert others == [None] * (len(SECRETS) - 1)


# -- file provider specifics -----------------------------------------------------------------------
def test_file_keys_are_private_files(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path / "keys")
    provider.create_kek("SECRET", 1)
    provider.create_secret("index")
    kek = tmp_path / "keys" / "kek" / "SECRET" / "v1.key"
    for path in (kek, tmp_path / "keys" / "index.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.stat().st_size == 32
    assert stat.S_IMODE(kek.parent.stat().st_mode) & 0o077 == 0


def test_file_destroy_removes_the_file(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path)
    provider.create_kek("OFFICIAL", 3)
    path = tmp_path / "kek" / "OFFICIAL" / "v3.key"
    assert path.exists()
    provider.destroy_kek("OFFICIAL", 3)
    assert not path.exists()


def test_file_kek_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "kek" / "SECRET"
    folder.mkdir(parents=True)
    (folder / "v1.key").write_bytes(b"short")
    with pytest.raises(KeyProblem, match="not a 256-bit key"):
        FileKeyProvider(tmp_path).wrap("SECRET", 1, bytes(32))


def test_file_versions_ignore_stray_files(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path)
    provider.create_kek("SECRET", 4)
    folder = tmp_path / "kek" / "SECRET"
    for stray in ("v2.key.bak", "notes.txt", "vX.key", "v10.pem"):
        (folder / stray).write_bytes(b"x")
    assert provider.kek_versions("SECRET") == [4]


def test_file_create_secret_never_overwrites(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path)
    value = provider.create_secret("signing")
    with pytest.raises(FileExistsError):
        provider.create_secret("signing")
    assert provider.secret("signing") == value


def test_wrap_format_is_rfc3394_like_the_other_providers(tmp_path: Path) -> None:
    """Stored wrapped keys are interchangeable: plain AES key wrap under the level's KEK."""
    provider = FileKeyProvider(tmp_path)
    provider.create_kek("SECRET", 1)
    kek = (tmp_path / "kek" / "SECRET" / "v1.key").read_bytes()
    dek = os.urandom(32)
    assert aes_key_unwrap(kek, provider.wrap("SECRET", 1, dek)) == dek
    assert provider.unwrap("SECRET", 1, aes_key_wrap(kek, dek)) == dek


def test_memory_provider_uses_the_same_wrap_format_and_counts_calls() -> None:
    provider = MemoryKeyProvider()
    provider.create_kek("OFFICIAL", 1)
    kek = provider.store.keks[("OFFICIAL", 1)]
    dek = os.urandom(32)
    wrapped = provider.wrap("OFFICIAL", 1, dek)
    assert aes_key_unwrap(kek, wrapped) == dek
    assert provider.unwrap("OFFICIAL", 1, aes_key_wrap(kek, dek)) == dek
    assert (provider.wraps, provider.unwraps) == (1, 1)


def test_memory_create_secret_never_overwrites() -> None:
    provider = MemoryKeyProvider()
    value = provider.create_secret("service")
    with pytest.raises(KeyProblem):
        provider.create_secret("service")
    assert provider.secret("service") == value
