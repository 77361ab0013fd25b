"""The vault and its grants (shareplatform/crypto/vault.py), on the in-memory key provider."""

from __future__ import annotations

import dataclasses
import uuid
from types import SimpleNamespace

import pytest

from shareplatform.crypto.envelope import Binding, IntegrityError
from shareplatform.crypto.keys import KeyProblem
from shareplatform.crypto.vault import (
    LEVELS,
    Grant,
    GrantMinter,
    GrantRefused,
    NewDataKey,
    SealedField,
    Vault,
)
from shareplatform.domain.labels import Label
from tests.unit.memory_keys import MemoryKeyProvider

ROW = str(uuid.UUID(int=1))
OTHER_ROW = str(uuid.UUID(int=2))


class Setup:
    def __init__(self) -> None:
        self.provider = MemoryKeyProvider()
        for level in LEVELS:
            self.provider.create_kek(level, 1)
        self.vault = Vault(self.provider)
        self.minter = self.vault.take_minter()

    def grant(self, purpose: str, *rows: tuple[str, str]) -> Grant:
        return self.minter.mint("actor-1", purpose, frozenset(rows or [("records", ROW)]), 41)

    def sealed(
        self, label: Label, fields: dict[str, str], row: str = ROW, table: str = "records"
    ) -> list[SealedField]:
        """Seal several fields of one row under one data key, as the access layer writes."""
        key = self.vault.new_data_key(label, 1)
        grant = self.grant("write", (table, row))
        out = []
        for column, text in fields.items():
            binding = Binding(table, column, row, label.canonical(), str(key.key_id))
            ciphertext = self.vault.seal(grant, key, binding, text)
            out.append(SealedField(binding, key.level, key.kek_version, key.wrapped, ciphertext))
        return out


@pytest.fixture
def s() -> Setup:
    return Setup()


SECRET = Label.of("SECRET", ["ORCON"])
OS = Label.of("OFFICIAL-SENSITIVE")


@pytest.mark.parametrize("label", [Label.of(m) for m in LEVELS] + [SECRET], ids=str)
def test_seal_and_open_round_trip(s: Setup, label: Label) -> None:
    (item,) = s.sealed(label, {"body": "the decision and its rationale"})
    assert item.level == label.classification.marking
    assert s.vault.open(s.grant("read"), item) == "the decision and its rationale"


def test_the_minter_can_be_taken_only_once(s: Setup) -> None:
    with pytest.raises(GrantRefused, match="already been taken"):
        s.vault.take_minter()
    assert isinstance(s.minter, GrantMinter)


def test_a_fresh_vault_hands_out_its_minter_once() -> None:
    vault = Vault(MemoryKeyProvider())
    vault.take_minter()
    with pytest.raises(GrantRefused):
        vault.take_minter()


def test_grant_records_what_it_was_minted_for(s: Setup) -> None:
    grant = s.grant("read", ("records", ROW), ("decisions", OTHER_ROW))
    assert grant.actor_id == "actor-1" and grant.purpose == "read" and grant.audit_seq == 41
    assert grant.rows == {("records", ROW), ("decisions", OTHER_ROW)}
    assert grant.grant_id != s.grant("read").grant_id
    assert "tag" not in repr(grant)


def test_open_refuses_a_write_grant_and_seal_a_read_grant(s: Setup) -> None:
    (item,) = s.sealed(OS, {"body": "text"})
    with pytest.raises(GrantRefused, match="does not cover read"):
        s.vault.open(s.grant("write"), item)
    key = s.vault.new_data_key(OS, 1)
    binding = Binding("records", "body", ROW, OS.canonical(), str(key.key_id))
    with pytest.raises(GrantRefused, match="does not cover write"):
        s.vault.seal(s.grant("read"), key, binding, "text")


@pytest.mark.parametrize(
    "rows",
    [(("records", OTHER_ROW),), (("decisions", ROW),), (("records", ROW.upper() + "x"),)],
    ids=["other-row", "other-table", "near-miss"],
)
def test_grant_for_another_row_is_refused(s: Setup, rows: tuple[tuple[str, str], ...]) -> None:
    (item,) = s.sealed(OS, {"body": "text"})
    with pytest.raises(GrantRefused):
        s.vault.open(s.grant("read", *rows), item)
    key = s.vault.new_data_key(OS, 1)
    binding = Binding("records", "body", ROW, OS.canonical(), str(key.key_id))
    with pytest.raises(GrantRefused):
        s.vault.seal(s.grant("write", *rows), key, binding, "text")


def test_a_grant_covering_several_rows_opens_each(s: Setup) -> None:
    (a,) = s.sealed(OS, {"body": "first"}, row=ROW)
    (b,) = s.sealed(OS, {"body": "second"}, row=OTHER_ROW)
    grant = s.grant("read", ("records", ROW), ("records", OTHER_ROW))
    assert [s.vault.open(grant, a), s.vault.open(grant, b)] == ["first", "second"]


def test_grant_from_another_vaults_minter_is_refused(s: Setup) -> None:
    (item,) = s.sealed(OS, {"body": "text"})
    other = Vault(s.provider)
    foreign = other.take_minter().mint("actor-1", "read", frozenset({("records", ROW)}), 41)
    with pytest.raises(GrantRefused, match="not a grant issued"):
        s.vault.open(foreign, item)


def test_forged_grant_objects_are_refused(s: Setup) -> None:
    (item,) = s.sealed(OS, {"body": "text"})
    real = s.grant("read", ("records", OTHER_ROW))
    forgeries = [
        Grant(real.grant_id, real.actor_id, "read", frozenset({("records", ROW)}), 41, real.tag),
        dataclasses.replace(real, rows=frozenset({("records", ROW)})),
        Grant(uuid.uuid4().hex, "actor-1", "read", frozenset({("records", ROW)}), 41, b"x" * 32),
        SimpleNamespace(**{f.name: getattr(real, f.name) for f in dataclasses.fields(real)}),
    ]
    for forged in forgeries:
        with pytest.raises(GrantRefused):
            s.vault.open(forged, item)  # type: ignore[arg-type]
    with pytest.raises(GrantRefused):
        s.vault.open(real, item)  # the real grant does not cover this row either


def test_seal_refuses_a_binding_naming_another_data_key(s: Setup) -> None:
    key = s.vault.new_data_key(OS, 1)
    binding = Binding("records", "body", ROW, OS.canonical(), str(uuid.uuid4()))
    with pytest.raises(GrantRefused, match="another data key"):
        s.vault.seal(s.grant("write"), key, binding, "text")


def test_new_data_keys_are_fresh_and_hide_the_key(s: Setup) -> None:
    a, b = s.vault.new_data_key(SECRET, 1), s.vault.new_data_key(SECRET, 1)
    assert isinstance(a, NewDataKey)
    assert a.key_id != b.key_id and a.dek != b.dek and a.wrapped != b.wrapped
    assert (a.level, a.kek_version) == ("SECRET", 1)
    assert s.provider.unwrap("SECRET", 1, a.wrapped) == a.dek
    assert a.dek.hex() not in repr(a) and "dek" not in repr(a)


def test_new_data_key_under_a_missing_version_fails(s: Setup) -> None:
    with pytest.raises(KeyProblem):
        s.vault.new_data_key(OS, 2)


def test_open_row_unwraps_once_for_several_fields(s: Setup) -> None:
    fields = {"body": "b", "rationale": "r", "options": "o", "title": "t"}
    items = s.sealed(SECRET, fields)
    before = s.provider.unwraps
    assert s.vault.open_row(s.grant("read"), items) == list(fields.values())
    assert s.provider.unwraps - before == 1


def test_open_row_refuses_fields_of_different_rows_or_keys(s: Setup) -> None:
    (a,) = s.sealed(OS, {"body": "a"}, row=ROW)
    (b,) = s.sealed(OS, {"body": "b"}, row=OTHER_ROW)
    (c,) = s.sealed(OS, {"title": "c"}, row=ROW)  # same row, its own data key
    both = s.grant("read", ("records", ROW), ("records", OTHER_ROW))
    with pytest.raises(IntegrityError, match="one row under one data key"):
        s.vault.open_row(both, [a, b])
    with pytest.raises(IntegrityError, match="one row under one data key"):
        s.vault.open_row(both, [a, c])


def test_open_row_checks_the_grant_for_every_field(s: Setup) -> None:
    items = s.sealed(OS, {"body": "a", "title": "b"})
    forged_second = dataclasses.replace(
        items[1], binding=dataclasses.replace(items[1].binding, table="decisions")
    )
    with pytest.raises(GrantRefused):
        s.vault.open_row(s.grant("read"), [items[0], forged_second])


def test_blocked_levels_are_neither_written_nor_served(s: Setup) -> None:
    (secret_item,) = s.sealed(SECRET, {"body": "secret"})
    (os_item,) = s.sealed(OS, {"body": "sensitive"})
    s.vault.blocked_levels.add("SECRET")
    with pytest.raises(KeyProblem, match="not written"):
        s.vault.new_data_key(SECRET, 1)
    before = s.provider.unwraps
    with pytest.raises(GrantRefused, match="not served"):
        s.vault.open(s.grant("read"), secret_item)
    assert s.provider.unwraps == before  # refused before any key was touched
    assert s.vault.open(s.grant("read"), os_item) == "sensitive"


def test_shredded_row_is_refused_without_unwrapping(s: Setup) -> None:
    (item,) = s.sealed(OS, {"body": "to be shredded"})
    shredded = dataclasses.replace(item, wrapped_key=None)
    before = s.provider.unwraps
    with pytest.raises(IntegrityError, match="shredded"):
        s.vault.open(s.grant("read"), shredded)
    assert s.provider.unwraps == before


def test_destroyed_kek_makes_rows_unreadable(s: Setup) -> None:
    (item,) = s.sealed(OS, {"body": "text"})
    s.provider.destroy_kek("OFFICIAL-SENSITIVE", 1)
    with pytest.raises(IntegrityError, match="unwrap failed"):
        s.vault.open(s.grant("read"), item)


def test_label_and_key_level_mismatch_is_refused(s: Setup) -> None:
    """A SECRET row relabelled OFFICIAL in the database: the key level no longer matches."""
    (item,) = s.sealed(SECRET, {"body": "secret"})
    relabelled = dataclasses.replace(
        item, binding=dataclasses.replace(item.binding, label=Label.of("OFFICIAL").canonical())
    )
    with pytest.raises(IntegrityError, match="label and key level disagree"):
        s.vault.open(s.grant("read"), relabelled)


def test_relabelling_both_label_and_key_level_still_fails(s: Setup) -> None:
    (item,) = s.sealed(SECRET, {"body": "secret"})
    official = Label.of("OFFICIAL").canonical()
    relabelled = dataclasses.replace(
        item, level="OFFICIAL", binding=dataclasses.replace(item.binding, label=official)
    )
    with pytest.raises(IntegrityError):
        s.vault.open(s.grant("read"), relabelled)


def test_dropping_a_caveat_fails_integrity(s: Setup) -> None:
    (item,) = s.sealed(SECRET, {"body": "orcon material"})
    no_orcon = dataclasses.replace(
        item, binding=dataclasses.replace(item.binding, label=Label.of("SECRET").canonical())
    )
    with pytest.raises(IntegrityError, match="integrity check failed"):
        s.vault.open(s.grant("read"), no_orcon)


def test_ciphertext_moved_to_another_row_fails(s: Setup) -> None:
    (a,) = s.sealed(OS, {"body": "row one"}, row=ROW)
    (b,) = s.sealed(OS, {"body": "row two"}, row=OTHER_ROW)
    swapped = dataclasses.replace(b, ciphertext=a.ciphertext)
    with pytest.raises(IntegrityError):
        s.vault.open(s.grant("read", ("records", OTHER_ROW)), swapped)


def test_tampered_ciphertext_fails(s: Setup) -> None:
    (item,) = s.sealed(OS, {"body": "text"})
    flipped = bytearray(item.ciphertext)
    flipped[-3] ^= 0xFF
    with pytest.raises(IntegrityError):
        s.vault.open(s.grant("read"), dataclasses.replace(item, ciphertext=bytes(flipped)))


def test_tampered_wrapped_key_fails(s: Setup) -> None:
    (item,) = s.sealed(OS, {"body": "text"})
    assert item.wrapped_key is not None
    wrapped = bytearray(item.wrapped_key)
    wrapped[0] ^= 0x01
    with pytest.raises(IntegrityError, match="unwrap failed"):
        s.vault.open(s.grant("read"), dataclasses.replace(item, wrapped_key=bytes(wrapped)))


def test_rows_open_after_the_data_key_is_rewrapped(s: Setup) -> None:
    (item,) = s.sealed(SECRET, {"body": "kept across rotation"})
    s.provider.create_kek("SECRET", 2)
    assert item.wrapped_key is not None
    rewrapped = s.provider.wrap("SECRET", 2, s.provider.unwrap("SECRET", 1, item.wrapped_key))
    s.provider.destroy_kek("SECRET", 1)
    moved = dataclasses.replace(item, kek_version=2, wrapped_key=rewrapped)
    assert s.vault.open(s.grant("read"), moved) == "kept across rotation"
    with pytest.raises(IntegrityError):
        s.vault.open(s.grant("read"), item)
