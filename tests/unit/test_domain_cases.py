"""Case vocabulary: categories, phases, MAPPA levels and categories, record types
(shareplatform/domain/cases.py)."""

from __future__ import annotations

import pytest

from shareplatform.domain.cases import (
    CaseCategory,
    MappaCategory,
    MappaLevel,
    Phase,
    RecordFamily,
    RecordType,
)
from shareplatform.domain.errors import InvalidValue


@pytest.mark.parametrize(
    ("text", "phase"),
    [
        ("custody", Phase.CUSTODY),
        ("Community", Phase.COMMUNITY),
        ("post-sentence", Phase.POST_SENTENCE),
        ("post sentence", Phase.POST_SENTENCE),
        (" POST_SENTENCE ", Phase.POST_SENTENCE),
    ],
)
def test_phase_parse(text: str, phase: Phase) -> None:
    assert Phase.parse(text) is phase


def test_phases_are_the_three_of_the_domain() -> None:
    assert [p.value for p in Phase] == ["CUSTODY", "COMMUNITY", "POST_SENTENCE"]
    assert Phase.POST_SENTENCE.title == "Post-sentence"
    assert Phase.CUSTODY.title == "Custody"


@pytest.mark.parametrize("text", ["licence", "", None, "pre-release"])
def test_unknown_phase_is_refused(text: object) -> None:
    with pytest.raises(InvalidValue) as err:
        Phase.parse(text)
    assert err.value.kind == "phase"
    assert err.value.allowed == ["CUSTODY", "COMMUNITY", "POST_SENTENCE"]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("terrorist", CaseCategory.TERRORIST),
        ("terrorist-connected", CaseCategory.TERRORIST_CONNECTED),
        ("Terrorist risk", CaseCategory.TERRORIST_RISK),
        ("critical public protection", CaseCategory.CRITICAL_PUBLIC_PROTECTION),
    ],
)
def test_case_category_parse(text: str, category: CaseCategory) -> None:
    assert CaseCategory.parse(text) is category


def test_unknown_case_category_names_its_kind() -> None:
    with pytest.raises(InvalidValue) as err:
        CaseCategory.parse("extremist")
    assert err.value.kind == "case category"


# docs/domain.md: 1 registered sexual offenders; 2 violent; 3 other dangerous; 4 terrorist.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("1", MappaCategory.REGISTERED_SEXUAL_OFFENDER),
        (2, MappaCategory.VIOLENT_OFFENDER),
        (" 3 ", MappaCategory.OTHER_DANGEROUS_OFFENDER),
        ("4", MappaCategory.TERRORISM),
    ],
)
def test_mappa_category_parse(text: object, category: MappaCategory) -> None:
    assert MappaCategory.parse(text) is category


@pytest.mark.parametrize("text", ["0", "5", "four", "", None, "4.0"])
def test_mappa_category_out_of_range_is_refused(text: object) -> None:
    with pytest.raises(InvalidValue) as err:
        MappaCategory.parse(text)
    assert err.value.allowed == ["1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("1", MappaLevel.ORDINARY),
        ("2", MappaLevel.ACTIVE_MULTI_AGENCY),
        (3, MappaLevel.SENIOR_MULTI_AGENCY),
    ],
)
def test_mappa_level_parse(text: object, level: MappaLevel) -> None:
    assert MappaLevel.parse(text) is level


@pytest.mark.parametrize("text", ["0", "4", "Level 3", None])
def test_mappa_level_out_of_range_is_refused(text: object) -> None:
    with pytest.raises(InvalidValue) as err:
        MappaLevel.parse(text)
    assert err.value.allowed == ["1", "2", "3"]


def test_mappa_levels_are_ordered() -> None:
    assert MappaLevel.ORDINARY < MappaLevel.ACTIVE_MULTI_AGENCY < MappaLevel.SENIOR_MULTI_AGENCY


# The family of each record type, as docs/domain.md groups them ("Cases and records").
FAMILIES = {
    "CONTACT_OFFICE": "contact",
    "CONTACT_HOME_VISIT": "contact",
    "CONTACT_JOINT_VISIT": "contact",
    "CONTACT_PHONE": "contact",
    "CONTACT_PRISON_KEYWORK": "contact",
    "CONTACT_POM_SESSION": "contact",
    "CONTACT_LEGAL_VISIT": "contact",
    "CONTACT_ADJUDICATION": "contact",
    "ASSESSMENT_OASYS": "assessment",
    "ASSESSMENT_ERG": "assessment",
    "ASSESSMENT_PGF": "assessment",
    "ASSESSMENT_RTOAF": "assessment",
    "ASSESSMENT_HOME_VISIT_RISK": "assessment",
    "ENQUIRY_DOMESTIC_ABUSE": "enquiry",
    "ENQUIRY_CHILD_SAFEGUARDING": "enquiry",
    "ENQUIRY_ADULT_SAFEGUARDING": "enquiry",
    "PLAN_RISK_MANAGEMENT": "plan",
    "PLAN_SENTENCE": "plan",
    "MINUTES": "minutes",
    "SANITISED_ACTION": "minutes",  # a break-out released from a meeting's decisions
}


@pytest.mark.parametrize(("code", "family"), sorted(FAMILIES.items()))
def test_record_type_family(code: str, family: str) -> None:
    record_type = RecordType.parse(code)
    assert record_type.family is RecordFamily(family)
    assert record_type.title and "_" not in record_type.title


def test_record_types_are_all_known() -> None:
    assert {t.value for t in RecordType} == set(FAMILIES)
    assert len({t.title for t in RecordType}) == len(RecordType)


def test_record_type_parse_spellings() -> None:
    assert RecordType.parse("contact-home-visit") is RecordType.CONTACT_HOME_VISIT
    assert RecordType.parse("assessment erg") is RecordType.ASSESSMENT_ERG
    with pytest.raises(InvalidValue) as err:
        RecordType.parse("EMAIL")
    assert err.value.kind == "record type"


def test_a_record_type_can_carry_its_own_label_floor() -> None:
    from shareplatform.domain.cases import MINIMUM_LABELS, RecordType
    from shareplatform.domain.errors import InvalidValue
    from shareplatform.domain.labels import Classification

    assert RecordType.MINUTES in MINIMUM_LABELS
    with pytest.raises(InvalidValue, match="at least OFFICIAL-SENSITIVE"):
        RecordType.MINUTES.check_label(Classification.OFFICIAL)
    RecordType.MINUTES.check_label(Classification.SECRET)
    assert RecordType.CONTACT_OFFICE.minimum_label is Classification.OFFICIAL
    RecordType.CONTACT_OFFICE.check_label(Classification.OFFICIAL)
