"""Decision facts, conditions and relation() (shareplatform/access/facts.py)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from shareplatform.access.facts import (
    CONDITIONS,
    CaseRef,
    Facts,
    Relation,
    Subject,
    SubjectFacts,
    clearance_dominates,
    cond,
    relation,
)
from shareplatform.access.vocabulary import Kind, record_kind
from shareplatform.domain.agencies import Role
from shareplatform.domain.cases import RecordType
from shareplatform.domain.errors import InvalidValue
from shareplatform.domain.labels import Classification
from shareplatform.domain.vetting import Vetting

CASE = uuid.UUID(int=10)
OTHER = uuid.UUID(int=11)
NSD_UNIT, CT_UNIT = "North", "CTP North East"


def subject(
    role: Role, nsd: str | None = NSD_UNIT, ct: str | None = CT_UNIT, **kw: frozenset[uuid.UUID]
) -> Subject:
    return Subject(
        user_id=uuid.uuid4(),
        username=role.value.lower(),
        role=role,
        agency=role.info.agency,
        vetting=Vetting.SC,
        vetting_expires=date(2030, 1, 1),
        clearance=Classification.SECRET,
        nsd_unit=nsd,
        ct_unit=ct,
        **kw,
    )


def case(
    nsd: str | None = NSD_UNIT, ct: str | None = CT_UNIT, case_id: uuid.UUID = CASE
) -> CaseRef:
    return CaseRef(case_id, nsd, ct)


def test_relation_of_a_team_member() -> None:
    rel = relation(subject(Role.COM, team_cases=frozenset({CASE})), case())
    assert rel == Relation(case_id=CASE, team=True)
    assert rel.need_to_know
    facts = Facts.on(Kind.CASE, Classification.OFFICIAL, rel, author=True)
    assert (facts.team, facts.panel, facts.author, facts.case_id) == (True, False, True, CASE)
    assert facts.relation == rel


def test_relation_panel_and_break_glass_are_per_case() -> None:
    s = subject(Role.POM, panel_cases=frozenset({CASE}), break_glass_cases=frozenset({OTHER}))
    here, there = relation(s, case()), relation(s, case(case_id=OTHER))
    assert (here.team, here.panel, here.oversight, here.break_glass) == (False, True, False, False)
    assert (there.panel, there.break_glass) == (False, True)
    assert here.need_to_know and not there.need_to_know


def test_no_relation_gives_no_need_to_know() -> None:
    rel = relation(subject(Role.COM), case())
    assert rel == Relation(case_id=CASE)
    assert not rel.need_to_know
    assert Facts.on(Kind.CASE, Classification.OFFICIAL) == Facts(Kind.CASE, Classification.OFFICIAL)


@pytest.mark.parametrize(
    ("role", "case_nsd", "case_ct", "expected"),
    [
        (Role.HONSU, NSD_UNIT, None, True),
        (Role.SOL, NSD_UNIT, CT_UNIT, True),
        (Role.HONSU, "London", CT_UNIT, False),  # another NSD unit; CT unit is not theirs to see
        (Role.LRO, None, CT_UNIT, True),
        (Role.NM_SUPERVISOR, "London", CT_UNIT, True),  # across force boundaries, within CT unit
        (Role.NM_LEAD, NSD_UNIT, "CTP London", False),
        (Role.COM, NSD_UNIT, CT_UNIT, False),  # frontline: no oversight of a unit
        (Role.GOVERNOR, NSD_UNIT, CT_UNIT, False),
        (Role.AUDITOR, NSD_UNIT, CT_UNIT, False),
    ],
)
def test_oversight_follows_the_roles_unit(
    role: Role, case_nsd: str | None, case_ct: str | None, expected: bool
) -> None:
    rel = relation(subject(role), case(case_nsd, case_ct))
    assert rel.oversight is expected
    assert rel.need_to_know is expected


def test_oversight_never_matches_on_missing_units() -> None:
    assert not relation(subject(Role.HONSU, nsd=None), case(nsd=None)).oversight
    assert not relation(subject(Role.LRO, ct=None), case(ct=None)).oversight


def test_subject_in_corridor_follows_role() -> None:
    assert subject(Role.HONSU).in_corridor
    assert not subject(Role.POM).in_corridor


@pytest.mark.parametrize(
    ("clearance", "label", "expected"),
    [
        ("SECRET", "SECRET", True),
        ("SECRET", "OFFICIAL", True),
        ("OFFICIAL-SENSITIVE", "SECRET", False),
        ("OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE", True),
        ("OFFICIAL", "OFFICIAL-SENSITIVE", False),
        ("", "OFFICIAL", False),  # expired or unvetted: nothing
    ],
)
def test_clearance_dominates(clearance: str, label: str, expected: bool) -> None:
    assert clearance_dominates(clearance, label) is expected
    uncleared = cond(
        "uncleared", SubjectFacts("COM", clearance), Facts(Kind.CASE, Classification.parse(label))
    )
    assert uncleared is (not expected)


def test_top_secret_label_fails_loudly() -> None:
    with pytest.raises(InvalidValue):
        clearance_dominates("SECRET", "TOP SECRET")


FLAGS = ("team", "panel", "oversight", "break_glass", "author", "owner", "orcon_foreign")
# condition -> the flags that satisfy it on their own
SATISFIED_BY = {
    "any": set(FLAGS) | {None},
    "need_to_know": {"team", "panel", "oversight"},
    "team": {"team"},
    "panel": {"panel"},
    "oversight": {"oversight"},
    "break_glass": {"break_glass"},
    "author": {"author"},
    "others": (set(FLAGS) | {None}) - {"author"},
    "owner": {"owner"},
    "orcon_foreign": {"orcon_foreign"},
}


@pytest.mark.parametrize("name", sorted(SATISFIED_BY))
@pytest.mark.parametrize("flag", [None, *FLAGS])
def test_each_condition_against_each_single_fact(name: str, flag: str | None) -> None:
    obj = Facts(
        record_kind(RecordType.CONTACT_OFFICE),
        Classification.OFFICIAL,
        **({flag: True} if flag else {}),
    )
    assert cond(name, SubjectFacts("COM", "SECRET"), obj) is (flag in SATISFIED_BY[name])


def test_break_glass_condition_is_only_for_people_without_need_to_know() -> None:
    sub = SubjectFacts("COM", "OFFICIAL-SENSITIVE")
    assert cond("break_glass", sub, Facts(Kind.CASE, Classification.OFFICIAL, break_glass=True))
    for flag in ("team", "panel", "oversight"):
        assert not cond(
            "break_glass",
            sub,
            Facts(Kind.CASE, Classification.OFFICIAL, break_glass=True, **{flag: True}),
        )


def test_conditions_are_exactly_those_tested() -> None:
    assert set(CONDITIONS) == set(SATISFIED_BY) | {"uncleared"}


@pytest.mark.parametrize("name", ["", "unknown", "TEAM", "need-to-know", "any "])
def test_unknown_condition_never_matches(name: str) -> None:
    everything = Facts(Kind.CASE, Classification.OFFICIAL, **{f: True for f in FLAGS})
    assert cond(name, SubjectFacts("HONSU", "SECRET"), everything) is False


def test_case_id_is_not_part_of_a_decision() -> None:
    a = Facts(Kind.CASE, Classification.OFFICIAL, team=True, case_id=CASE)
    b = Facts(Kind.CASE, Classification.OFFICIAL, team=True, case_id=OTHER)
    assert a == b and hash(a) == hash(b)
    assert a != Facts(Kind.CASE, Classification.OFFICIAL, team=False, case_id=CASE)
    assert SubjectFacts("COM", "SECRET") == SubjectFacts("COM", "SECRET")
