"""Classifications, caveats and labels (shareplatform/domain/labels.py)."""

from __future__ import annotations

import itertools

import pytest

from shareplatform.domain.errors import InvalidValue
from shareplatform.domain.labels import Caveat, Classification, Label, dominates, highest

# docs/domain.md, "Labels": OFFICIAL < OFFICIAL-SENSITIVE < SECRET; TOP SECRET is not held.
LADDER = ["OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET"]


def test_markings_follow_the_domain_ladder() -> None:
    assert Classification.markings() == LADDER
    assert sorted(Classification, key=int) == [Classification.parse(m) for m in LADDER]


@pytest.mark.parametrize(
    ("higher", "lower"), list(itertools.product(LADDER, LADDER)), ids=lambda v: v
)
def test_dominates_matches_position_on_the_ladder(higher: str, lower: str) -> None:
    expected = LADDER.index(higher) >= LADDER.index(lower)
    assert dominates(Classification.parse(higher), Classification.parse(lower)) is expected


@pytest.mark.parametrize(
    ("text", "marking"),
    [
        ("OFFICIAL", "OFFICIAL"),
        ("official", "OFFICIAL"),
        ("  Secret ", "SECRET"),
        ("OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE"),
        ("official_sensitive", "OFFICIAL-SENSITIVE"),
        ("Official Sensitive", "OFFICIAL-SENSITIVE"),
    ],
)
def test_parse_accepts_spellings_of_each_marking(text: str, marking: str) -> None:
    parsed = Classification.parse(text)
    assert parsed.marking == marking
    assert str(parsed) == marking


def test_parse_passes_a_classification_through() -> None:
    for member in Classification:
        assert Classification.parse(member) is member


@pytest.mark.parametrize("text", ["TOP SECRET", "top-secret", "Top_Secret", "TS", " ts "])
def test_top_secret_is_refused_with_the_reason(text: str) -> None:
    with pytest.raises(InvalidValue) as err:
        Classification.parse(text)
    assert "up to SECRET" in str(err.value)
    assert err.value.why == "this platform holds material up to SECRET only"
    assert err.value.allowed == LADDER


@pytest.mark.parametrize("text", ["", None, "RESTRICTED", "CONFIDENTIAL", "SECRET-ISH", 3])
def test_unknown_or_missing_classification_is_refused(text: object) -> None:
    with pytest.raises(InvalidValue) as err:
        Classification.parse(text)
    assert err.value.kind == "classification"
    assert "up to SECRET" not in str(err.value)


def test_highest_of_a_page_and_of_nothing() -> None:
    c = Classification
    assert highest([c.OFFICIAL, c.SECRET, c.OFFICIAL_SENSITIVE]) is c.SECRET
    assert highest([c.OFFICIAL_SENSITIVE, c.OFFICIAL]) is c.OFFICIAL_SENSITIVE
    assert highest([]) is c.OFFICIAL
    assert highest(iter([c.OFFICIAL])) is c.OFFICIAL


@pytest.mark.parametrize(
    ("text", "caveat"),
    [
        ("ORCON", Caveat.ORCON),
        ("orcon", Caveat.ORCON),
        ("UK EYES ONLY", Caveat.UK_EYES_ONLY),
        ("uk_eyes_only", Caveat.UK_EYES_ONLY),
        ("  uk   eyes   only ", Caveat.UK_EYES_ONLY),
        ("Personal", Caveat.PERSONAL),
    ],
)
def test_caveat_parse_normalises_case_spacing_and_underscores(text: str, caveat: Caveat) -> None:
    assert Caveat.parse(text) is caveat


@pytest.mark.parametrize("text", ["NOFORN", "", None, "UKEYESONLY", "EYES ONLY"])
def test_unknown_caveat_is_refused(text: object) -> None:
    with pytest.raises(InvalidValue) as err:
        Caveat.parse(text)
    assert err.value.kind == "caveat"
    assert set(err.value.allowed) == {"ORCON", "UK EYES ONLY", "PERSONAL"}


def test_label_canonical_form_is_sorted_and_order_independent() -> None:
    a = Label.of("SECRET", ["uk eyes only", "PERSONAL", "orcon"])
    b = Label.of(Classification.SECRET, [Caveat.ORCON, Caveat.UK_EYES_ONLY, Caveat.PERSONAL])
    assert a == b
    assert a.canonical() == b.canonical() == "SECRET|ORCON,PERSONAL,UK EYES ONLY"
    assert a.caveat_text() == "ORCON,PERSONAL,UK EYES ONLY"
    assert str(a) == "SECRET / ORCON / PERSONAL / UK EYES ONLY"


def test_label_without_caveats() -> None:
    label = Label.of("official-sensitive")
    assert label.caveats == frozenset()
    assert label.canonical() == "OFFICIAL-SENSITIVE|"
    assert str(label) == "OFFICIAL-SENSITIVE"
    assert not label.orcon


def test_label_from_stored_strings() -> None:
    label = Label.of("SECRET", "ORCON,UK EYES ONLY")
    assert label.orcon
    assert label.caveats == {Caveat.ORCON, Caveat.UK_EYES_ONLY}
    assert Label.of("OFFICIAL", "").caveats == frozenset()
    # the stored form round-trips through canonical()
    classification, caveats = label.canonical().split("|")
    assert Label.of(classification, caveats) == label


def test_duplicate_caveats_collapse() -> None:
    label = Label.of("OFFICIAL", ["ORCON", "orcon", " ORCON "])
    assert label.caveats == {Caveat.ORCON}
    assert label.canonical() == "OFFICIAL|ORCON"


@pytest.mark.parametrize(
    ("classification", "caveats"),
    [
        (None, ["ORCON"]),
        ("", []),
        ("TOP SECRET", []),
        ("SECRET", ["NOFORN"]),
        ("SECRET", "ORCON,NOFORN"),
    ],
)
def test_label_parse_errors(classification: object, caveats: object) -> None:
    with pytest.raises(InvalidValue):
        Label.of(classification, caveats)  # type: ignore[arg-type]


def test_label_demands_a_classification_object() -> None:
    with pytest.raises(InvalidValue):
        Label("SECRET")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        Label(3)  # type: ignore[arg-type]


def test_labels_are_immutable_and_hashable() -> None:
    label = Label.of("SECRET", ["ORCON"])
    with pytest.raises(AttributeError):
        label.classification = Classification.OFFICIAL  # type: ignore[misc]
    assert len({label, Label.of("SECRET", "ORCON"), Label.of("SECRET")}) == 2


def test_orcon_flag_only_with_orcon() -> None:
    assert Label.of("OFFICIAL", ["ORCON"]).orcon
    assert not Label.of("SECRET", ["UK EYES ONLY", "PERSONAL"]).orcon
