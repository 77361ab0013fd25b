"""Finding people: partial names, family names, sound-alikes, dates of birth and identifiers,
through blind-indexed tokens (shareplatform/cases/search.py), on SQLite and PostgreSQL; only in
cases the user may see; emergency access by identifier keeps its own rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.cases.models import NominalToken
from shareplatform.cases.search import case_for_emergency, token_terms
from shareplatform.cases.services import add_member, add_nominal, open_case, search_nominals
from tests.factories import ctx_for
from tests.security import builders

PNC = "2004/0012345X"


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    today = date.today()
    with platform.transaction() as s:
        com = builders.user(s, "s.com", "COM", "SC", nsd_unit="North")
        builders.user(s, "s.other", "COM", "SC", nsd_unit="London")
        people = [
            (
                "Bilal",
                "Hussein",
                ["Billy Hussain"],
                date(1990, 3, 14),
                {"pnc": PNC, "crn": "X123456"},
            ),
            ("Bilqis", "Ahmed", [], date(1985, 1, 2), {"nomis": "A1234BC"}),
            ("Hassan", "Bilal", [], None, {}),
        ]
        for i, (given, family, aliases, dob, ids) in enumerate(people):
            n = add_nominal(
                s,
                platform.system_writer,
                platform.indexer,
                given_name=given,
                family_name=family,
                aliases=aliases,
                date_of_birth=dob,
                identifiers=ids,
            )
            c = open_case(
                s,
                platform.system_writer,
                nominal=n,
                reference=f"SP-90{i}",
                category="TERRORIST",
                phase="COMMUNITY",
                lead_agency="NSD",
                nsd_unit="North",
                ct_unit=None,
            )
            s.flush()
            add_member(s, c, com, "COM", today - timedelta(days=10))
    return platform


def _names(platform, who: str, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return [n.full_name for _, n in search_nominals(ctx_for(platform, s, who), query)]


def test_tokens_are_bounded_prefixes_parts_sounds_and_dob() -> None:
    terms = token_terms("Bilal", "Al-Hussein", [], date(1990, 3, 14))
    assert ("part", "BILAL") in terms and ("part", "AL") in terms
    assert {v for k, v in terms if k == "prefix" and v.startswith("HUS")} == {
        "HUS",
        "HUSS",
        "HUSSE",
        "HUSSEI",
    }
    assert ("phonetic", "HSN") in terms and ("dob", "1990-03-14") in terms
    assert not any(k == "prefix" and len(v) < 3 for k, v in terms)


def test_partial_given_name_finds_the_person(world) -> None:  # type: ignore[no-untyped-def]
    found = _names(world, "s.com", "bilal")
    assert set(found[:2]) == {"Bilal Hussein", "Hassan Bilal"}  # whole name parts rank first
    assert set(_names(world, "s.com", "bil")) == {"Bilal Hussein", "Bilqis Ahmed", "Hassan Bilal"}


def test_family_name_alias_and_two_words(world) -> None:  # type: ignore[no-untyped-def]
    # the exact family name first; "Hassan" sounds alike (Metaphone HSN) and follows it
    assert _names(world, "s.com", "Hussein") == ["Bilal Hussein", "Hassan Bilal"]
    assert _names(world, "s.com", "billy") == ["Bilal Hussein"]  # an alias
    assert _names(world, "s.com", "bil huss") == ["Bilal Hussein"]  # every word must match


def test_sound_alike(world) -> None:  # type: ignore[no-untyped-def]
    assert "Bilal Hussein" in _names(world, "s.com", "Husain")
    assert "Bilal Hussein" in _names(world, "s.com", "Billal")


def test_identifiers_date_of_birth_and_reference(world) -> None:  # type: ignore[no-untyped-def]
    assert _names(world, "s.com", PNC) == ["Bilal Hussein"]
    assert _names(world, "s.com", "2004/12345x".replace("12345", "0012345")) == ["Bilal Hussein"]
    assert _names(world, "s.com", "A1234BC") == ["Bilqis Ahmed"]  # NOMIS
    assert _names(world, "s.com", "X123456") == ["Bilal Hussein"]  # CRN
    assert _names(world, "s.com", "14/03/1990") == ["Bilal Hussein"]
    assert _names(world, "s.com", "sp-902") == ["Hassan Bilal"]


def test_only_cases_the_user_may_see(world) -> None:  # type: ignore[no-untyped-def]
    for query in ("bil", "Hussein", "Husain", PNC, "SP-900", "14/03/1990"):
        assert _names(world, "s.other", query) == []


def test_tokens_are_keyed_digests_not_plaintext(world) -> None:  # type: ignore[no-untyped-def]
    with world.transaction() as s:
        digests = list(s.scalars(select(NominalToken.digest)))
    assert digests and all(len(d) == 16 for d in digests)
    assert not any(b"BIL" in d or b"HUSS" in d for d in digests)


def test_emergency_access_resolves_identifiers(world) -> None:  # type: ignore[no-untyped-def]
    with world.transaction() as s:
        by_pnc = case_for_emergency(s, world.indexer, PNC)
        by_nomis = case_for_emergency(s, world.indexer, "a1234bc")
        by_ref = case_for_emergency(s, world.indexer, "sp-900")
        assert by_pnc is not None and by_ref is not None and by_pnc.id == by_ref.id
        assert by_nomis is not None and by_nomis.reference == "SP-901"
        assert case_for_emergency(s, world.indexer, "Bilal") is None  # names are not enough
        assert case_for_emergency(s, world.indexer, "SP-999") is None
