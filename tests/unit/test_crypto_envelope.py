"""Envelope encryption bound to its place (shareplatform/crypto/envelope.py)."""

from __future__ import annotations

import dataclasses
import os

import pytest

from shareplatform.crypto.envelope import FORMAT_VERSION, Binding, IntegrityError, open_sealed, seal
from shareplatform.domain.labels import Label

DEK = bytes(range(32))
SECRET_LABEL = Label.of("SECRET", ["ORCON"]).canonical()
BINDING = Binding("records", "body", "7f1c0b2e", SECRET_LABEL, "key-1")
TEXT = "Decision: recall to custody; rationale follows."


@pytest.mark.parametrize("plaintext", ["", "x", TEXT, "Zoë Ó'Brien – ✓" * 50])
def test_round_trip(plaintext: str) -> None:
    assert open_sealed(DEK, BINDING, seal(DEK, BINDING, plaintext)) == plaintext


def test_layout_is_version_nonce_ciphertext_tag() -> None:
    sealed = seal(DEK, BINDING, TEXT)
    assert sealed[0] == FORMAT_VERSION
    assert len(sealed) == 1 + 12 + len(TEXT.encode()) + 16
    assert TEXT.encode() not in sealed


def test_each_seal_uses_a_fresh_nonce() -> None:
    a, b = seal(DEK, BINDING, TEXT), seal(DEK, BINDING, TEXT)
    assert a != b and a[1:13] != b[1:13]
    assert open_sealed(DEK, BINDING, a) == open_sealed(DEK, BINDING, b) == TEXT


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("table", "decisions"),
        ("column", "rationale"),
        ("row_id", "7f1c0b2f"),
        ("label", Label.of("OFFICIAL").canonical()),
        ("label", Label.of("SECRET").canonical()),  # caveat stripped
        ("key_id", "key-2"),
    ],
)
def test_changing_any_bound_field_makes_open_fail(field: str, value: str) -> None:
    sealed = seal(DEK, BINDING, TEXT)
    moved = dataclasses.replace(BINDING, **{field: value})
    with pytest.raises(IntegrityError) as err:
        open_sealed(DEK, moved, sealed)
    assert TEXT not in str(err.value)


def test_wrong_data_key_fails() -> None:
    sealed = seal(DEK, BINDING, TEXT)
    with pytest.raises(IntegrityError):
        open_sealed(os.urandom(32), BINDING, sealed)


@pytest.mark.parametrize("offset", [1, 12, 13, 20, -17, -1], ids=lambda o: f"byte{o}")
def test_flipping_any_byte_fails(offset: int) -> None:
    sealed = bytearray(seal(DEK, BINDING, TEXT))
    sealed[offset] ^= 0x01
    with pytest.raises(IntegrityError, match="integrity check failed"):
        open_sealed(DEK, BINDING, bytes(sealed))


def test_unknown_format_version_is_refused() -> None:
    sealed = bytearray(seal(DEK, BINDING, TEXT))
    sealed[0] = FORMAT_VERSION + 1
    with pytest.raises(IntegrityError, match="unknown ciphertext format"):
        open_sealed(DEK, BINDING, bytes(sealed))


@pytest.mark.parametrize(
    "sealed", [b"", bytes([FORMAT_VERSION]) * 20, bytes([FORMAT_VERSION]) + bytes(12 + 15)]
)
def test_empty_or_truncated_ciphertext_fails(sealed: bytes) -> None:
    with pytest.raises(IntegrityError):
        open_sealed(DEK, BINDING, sealed)


def test_truncated_tag_fails() -> None:
    sealed = seal(DEK, BINDING, TEXT)
    with pytest.raises(IntegrityError):
        open_sealed(DEK, BINDING, sealed[:-1])


def test_associated_data_is_unambiguous() -> None:
    """Length prefixes: shifting a character between adjacent fields changes the binding."""
    a = Binding("ab", "c", "1", "OFFICIAL|", "k")
    b = Binding("a", "bc", "1", "OFFICIAL|", "k")
    assert a.associated_data() != b.associated_data()
    with pytest.raises(IntegrityError):
        open_sealed(DEK, b, seal(DEK, a, TEXT))


def test_associated_data_is_deterministic_and_versioned() -> None:
    ad = BINDING.associated_data()
    assert ad == Binding(*dataclasses.astuple(BINDING)).associated_data()
    assert ad.startswith(b"SPAD")
    for part in ("records", "body", "7f1c0b2e", SECRET_LABEL, "key-1"):
        assert part.encode() in ad


@pytest.mark.parametrize("sealed", [b"", b"\x01", bytes([FORMAT_VERSION]) + b"\x00" * 12])
def test_a_truncated_ciphertext_is_an_integrity_failure(sealed: bytes) -> None:
    binding = Binding("records", "body_ct", "row", "OFFICIAL", "key")
    with pytest.raises(IntegrityError):
        open_sealed(os.urandom(32), binding, sealed)
