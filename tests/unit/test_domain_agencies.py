"""Agencies, roles, tiers and oversight (shareplatform/domain/agencies.py), checked against an
independent transcription of docs/domain.md's "Agencies and roles" table."""

from __future__ import annotations

import pytest

from shareplatform.domain import CORRIDOR_ROLES, PLATFORM_ROLES
from shareplatform.domain.agencies import (
    CT_UNITS,
    FRONTLINE_ROLES,
    NSD_UNITS,
    Agency,
    Oversight,
    Role,
    Tier,
)
from shareplatform.domain.errors import InvalidValue

# agency -> (frontline: never in the corridor, corridor managers, other case roles)
DOMAIN_TABLE: dict[str, tuple[set[str], set[str], set[str]]] = {
    "PRISON": ({"POM", "KEYWORKER"}, {"GOVERNOR", "HEAD_OF_SECURITY"}, {"PRISON_PREVENT_LEAD"}),
    "NSD": (
        {"COM", "PROBATION_PRACTITIONER", "SPECIALIST_PRACTITIONER"},
        {"SOL", "HONSU"},
        {"PSYCHOLOGIST", "POLYGRAPH_EXAMINER", "MAPPA_ADMIN"},
    ),
    "CTNM": (
        {"NOMINAL_MANAGER", "CT_SUPPORT_STAFF"},
        {"NM_SUPERVISOR", "NM_LEAD", "LRO"},
        {"CTPIO"},
    ),
    "JEXU": (set(), {"PCT_LEAD", "RCTL"}, set()),
}
PLATFORM = {"POLICY_ADMIN", "USER_ADMIN", "AUDITOR"}
# Oversight for the case's unit or region: the NSD's managers see their NSD unit; CTNM supervisors
# "see their whole team, across force boundaries", i.e. the CT unit.
OVERSIGHT = {"SOL": "nsd_unit", "HONSU": "nsd_unit"}
OVERSIGHT |= {"NM_SUPERVISOR": "ct_unit", "NM_LEAD": "ct_unit", "LRO": "ct_unit"}

EXPECTED: dict[str, tuple[str, str]] = {code: ("PLATFORM", "platform") for code in PLATFORM}
for _agency, (_front, _corr, _other) in DOMAIN_TABLE.items():
    EXPECTED |= {c: (_agency, "frontline") for c in _front}
    EXPECTED |= {c: (_agency, "corridor") for c in _corr}
    EXPECTED |= {c: (_agency, "specialist") for c in _other}


def test_every_role_is_in_the_domain_table_and_no_more() -> None:
    assert {r.value for r in Role} == set(EXPECTED)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_role_agency_tier_and_oversight(code: str) -> None:
    role = Role.parse(code)
    agency, tier = EXPECTED[code]
    assert role.info.agency is Agency(agency)
    assert role.info.tier is Tier(tier)
    assert role.in_corridor is (tier == "corridor")
    assert role.info.oversight is Oversight(OVERSIGHT.get(code, "none"))
    assert role.title and role.title != code


@pytest.mark.parametrize("code", sorted(c for c, (_, t) in EXPECTED.items() if t == "frontline"))
def test_frontline_roles_are_never_in_the_corridor(code: str) -> None:
    role = Role(code)
    assert not role.in_corridor
    assert role not in CORRIDOR_ROLES
    assert role in FRONTLINE_ROLES
    assert role.info.oversight is Oversight.NONE


def test_role_sets_partition_the_roles() -> None:
    assert {r.value for r in CORRIDOR_ROLES} == {
        c for c, v in EXPECTED.items() if v[1] == "corridor"
    }
    assert {r.value for r in PLATFORM_ROLES} == PLATFORM
    assert not (CORRIDOR_ROLES & FRONTLINE_ROLES) and not (CORRIDOR_ROLES & PLATFORM_ROLES)
    assert not (FRONTLINE_ROLES & PLATFORM_ROLES)


def test_mappa_administrators_never_enter_the_corridor() -> None:
    assert not Role.MAPPA_ADMIN.in_corridor
    assert Role.MAPPA_ADMIN.info.tier is Tier.SPECIALIST


def test_platform_roles_have_no_case_agency_and_no_oversight() -> None:
    for role in PLATFORM_ROLES:
        assert role.info.agency is Agency.PLATFORM
        assert role.info.oversight is Oversight.NONE
        assert not role.in_corridor


@pytest.mark.parametrize("text", ["honsu", " Lro ", "mappa_admin", "POLICY_ADMIN"])
def test_role_parse_is_case_insensitive(text: str) -> None:
    assert Role.parse(text).value == text.strip().upper()


@pytest.mark.parametrize("text", ["SUPERUSER", "", None, "ADMIN", "HoNSU chair"])
def test_unknown_role_is_refused(text: object) -> None:
    with pytest.raises(InvalidValue) as err:
        Role.parse(text)
    assert err.value.kind == "role"
    assert "HONSU" in err.value.allowed


def test_agencies_parse_and_have_titles() -> None:
    assert {a.value for a in Agency} == {*DOMAIN_TABLE, "PLATFORM"}
    assert Agency.parse("ctnm") is Agency.CTNM
    assert "Probation" in Agency.NSD.title
    assert len({a.title for a in Agency}) == len(Agency)
    with pytest.raises(InvalidValue):
        Agency.parse("MI5")


def test_units_five_nsd_and_nine_ct() -> None:
    # docs/domain.md: the NSD has five units, CTNM nine regional CT units.
    assert len(NSD_UNITS) == len(set(NSD_UNITS)) == 5
    assert len(CT_UNITS) == len(set(CT_UNITS)) == 9
