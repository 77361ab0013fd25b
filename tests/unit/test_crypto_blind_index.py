"""Keyed blind indexes (shareplatform/crypto/blind_index.py)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from shareplatform.crypto.blind_index import BlindIndexer, normalise

KEY_A = b"A" * 32
KEY_B = b"B" * 32


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("name", "José O'Brien", "JOSE OBRIEN"),
        ("name", "  jean-luc   picard ", "JEAN LUC PICARD"),
        ("alias", "Zoë  Smith", "ZOE SMITH"),
        ("pnc", "2001/0012345a", "20010012345A"),
        ("nomis", " a1234bc ", "A1234BC"),
        ("crn", "X123-456", "X123456"),
        ("visor", "ﬁ 12", "FI12"),  # NFKD folds the ligature
    ],
)
def test_normalise(kind: str, value: str, expected: str) -> None:
    assert normalise(kind, value) == expected


def test_names_keep_word_boundaries_identifiers_do_not() -> None:
    assert normalise("name", "Ann Marie") != normalise("name", "Annmarie")
    assert normalise("pnc", "AB 12") == normalise("pnc", "AB12")


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("name", "José O'Brien", "JOSE OBRIEN"),
        ("name", "anne-marie  smith", "Anne Marie Smith"),
        ("pnc", "2001/0012345A", "20010012345a"),
        ("crn", "x 123 456", "X123456"),
    ],
)
def test_equivalent_spellings_share_a_digest(kind: str, a: str, b: str) -> None:
    indexer = BlindIndexer(KEY_A)
    assert indexer.digest(kind, a) == indexer.digest(kind, b)


@pytest.mark.parametrize(
    ("kind", "a", "b"), [("name", "Smith", "Smyth"), ("pnc", "2001/1", "2001/2")]
)
def test_different_values_differ(kind: str, a: str, b: str) -> None:
    indexer = BlindIndexer(KEY_A)
    assert indexer.digest(kind, a) != indexer.digest(kind, b)


def test_deterministic_across_instances() -> None:
    assert BlindIndexer(KEY_A).digest("name", "Smith") == BlindIndexer(KEY_A).digest(
        "name", "smith"
    )


def test_key_separation() -> None:
    assert BlindIndexer(KEY_A).digest("name", "Smith") != BlindIndexer(KEY_B).digest(
        "name", "Smith"
    )


def test_kind_separation() -> None:
    indexer = BlindIndexer(KEY_A)
    assert indexer.digest("name", "SMITH") != indexer.digest("alias", "SMITH")
    assert indexer.digest("pnc", "A1") != indexer.digest("cro", "A1")


def test_digest_is_truncated_hmac_sha256_of_kind_and_normalised_value() -> None:
    digest = BlindIndexer(KEY_A).digest("name", "José")
    expected = hmac.new(KEY_A, b"name\x00JOSE", hashlib.sha256).digest()[:16]
    assert digest == expected
    assert len(digest) == 16
    assert b"JOSE" not in digest


@pytest.mark.parametrize("length", [0, 16, 31])
def test_short_keys_are_refused(length: int) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        BlindIndexer(b"k" * length)


def test_longer_keys_are_accepted() -> None:
    assert len(BlindIndexer(b"k" * 64).digest("name", "x")) == 16
