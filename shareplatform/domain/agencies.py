"""Agencies, roles and the sterile corridor (docs/domain.md, "Agencies and roles")."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .enums import parse_member


class Agency(enum.StrEnum):
    PRISON = "PRISON"
    NSD = "NSD"
    CTNM = "CTNM"
    JEXU = "JEXU"
    PLATFORM = "PLATFORM"  # platform administrators and auditors, outside any case

    @classmethod
    def parse(cls, value: object) -> Agency:
        return parse_member(cls, value, "agency")

    @property
    def title(self) -> str:  # type: ignore[override]
        return _AGENCY_TITLES[self]


_AGENCY_TITLES = {
    Agency.PRISON: "HM Prison Service",
    Agency.NSD: "Probation Service National Security Division",
    Agency.CTNM: "Counter Terrorism Nominal Management (police)",
    Agency.JEXU: "Joint Extremism Unit",
    Agency.PLATFORM: "Platform administration",
}


class Tier(enum.StrEnum):
    FRONTLINE = "frontline"  # never in the sterile corridor
    CORRIDOR = "corridor"  # operational and senior managers who may receive SECRET
    SPECIALIST = "specialist"  # case specialists outside the corridor
    PLATFORM = "platform"  # administrators and auditors: no case content by virtue of role


class Oversight(enum.StrEnum):
    NONE = "none"
    NSD_UNIT = "nsd_unit"  # sees every case of their NSD unit
    CT_UNIT = "ct_unit"  # sees every case of their CT unit (across force boundaries)


@dataclass(frozen=True, slots=True)
class RoleInfo:
    code: str
    title: str
    agency: Agency
    tier: Tier
    oversight: Oversight = Oversight.NONE

    @property
    def in_corridor(self) -> bool:
        return self.tier is Tier.CORRIDOR


class Role(enum.StrEnum):
    # HM Prison Service
    POM = "POM"
    KEYWORKER = "KEYWORKER"
    GOVERNOR = "GOVERNOR"
    HEAD_OF_SECURITY = "HEAD_OF_SECURITY"
    PRISON_PREVENT_LEAD = "PRISON_PREVENT_LEAD"
    # Probation NSD
    COM = "COM"
    PROBATION_PRACTITIONER = "PROBATION_PRACTITIONER"
    SPECIALIST_PRACTITIONER = "SPECIALIST_PRACTITIONER"
    SOL = "SOL"
    HONSU = "HONSU"
    PSYCHOLOGIST = "PSYCHOLOGIST"
    POLYGRAPH_EXAMINER = "POLYGRAPH_EXAMINER"
    MAPPA_ADMIN = "MAPPA_ADMIN"
    # Police CTNM
    NOMINAL_MANAGER = "NOMINAL_MANAGER"
    CT_SUPPORT_STAFF = "CT_SUPPORT_STAFF"
    NM_SUPERVISOR = "NM_SUPERVISOR"
    NM_LEAD = "NM_LEAD"
    LRO = "LRO"
    CTPIO = "CTPIO"
    # JExU
    PCT_LEAD = "PCT_LEAD"
    RCTL = "RCTL"
    # Platform
    POLICY_ADMIN = "POLICY_ADMIN"
    USER_ADMIN = "USER_ADMIN"
    AUDITOR = "AUDITOR"

    @classmethod
    def parse(cls, value: object) -> Role:
        return parse_member(cls, value, "role")

    @property
    def info(self) -> RoleInfo:
        return ROLES[self]

    @property
    def in_corridor(self) -> bool:
        return ROLES[self].in_corridor

    @property
    def title(self) -> str:  # type: ignore[override]
        return ROLES[self].title


_F, _C, _S, _P = Tier.FRONTLINE, Tier.CORRIDOR, Tier.SPECIALIST, Tier.PLATFORM
_NSDU, _CTU = Oversight.NSD_UNIT, Oversight.CT_UNIT

ROLES: dict[Role, RoleInfo] = {
    Role(info.code): info
    for info in (
        RoleInfo("POM", "Prison offender manager", Agency.PRISON, _F),
        RoleInfo("KEYWORKER", "Keyworker", Agency.PRISON, _F),
        RoleInfo("GOVERNOR", "Governor", Agency.PRISON, _C),
        RoleInfo("HEAD_OF_SECURITY", "Head of security", Agency.PRISON, _C),
        RoleInfo("PRISON_PREVENT_LEAD", "Prison Prevent lead", Agency.PRISON, _S),
        RoleInfo("COM", "Community offender manager", Agency.NSD, _F),
        RoleInfo("PROBATION_PRACTITIONER", "Probation practitioner", Agency.NSD, _F),
        RoleInfo("SPECIALIST_PRACTITIONER", "Specialist probation practitioner", Agency.NSD, _F),
        RoleInfo("SOL", "Senior operational lead", Agency.NSD, _C, _NSDU),
        RoleInfo("HONSU", "Head of National Security Unit", Agency.NSD, _C, _NSDU),
        RoleInfo("PSYCHOLOGIST", "Psychologist", Agency.NSD, _S),
        RoleInfo("POLYGRAPH_EXAMINER", "Polygraph examiner", Agency.NSD, _S),
        RoleInfo("MAPPA_ADMIN", "MAPPA administrator", Agency.NSD, _S),
        RoleInfo("NOMINAL_MANAGER", "Nominal manager", Agency.CTNM, _F),
        RoleInfo("CT_SUPPORT_STAFF", "Nominal management support staff", Agency.CTNM, _F),
        RoleInfo("NM_SUPERVISOR", "Nominal management supervisor (DS)", Agency.CTNM, _C, _CTU),
        RoleInfo("NM_LEAD", "Nominal management lead (DI)", Agency.CTNM, _C, _CTU),
        RoleInfo("LRO", "Lead responsible officer (DCI)", Agency.CTNM, _C, _CTU),
        RoleInfo("CTPIO", "CT prison intelligence officer", Agency.CTNM, _S),
        RoleInfo("PCT_LEAD", "Probation CT team lead", Agency.JEXU, _C),
        RoleInfo("RCTL", "Regional CT lead", Agency.JEXU, _C),
        RoleInfo("POLICY_ADMIN", "Policy administrator", Agency.PLATFORM, _P),
        RoleInfo("USER_ADMIN", "User administrator", Agency.PLATFORM, _P),
        RoleInfo("AUDITOR", "Auditor", Agency.PLATFORM, _P),
    )
}

PLATFORM_ROLES = frozenset(r for r, i in ROLES.items() if i.tier is Tier.PLATFORM)
CORRIDOR_ROLES = frozenset(r for r, i in ROLES.items() if i.tier is Tier.CORRIDOR)
FRONTLINE_ROLES = frozenset(r for r, i in ROLES.items() if i.tier is Tier.FRONTLINE)

NSD_UNITS = ("North", "Midlands", "London", "South East", "Wales and South West")
CT_UNITS = (
    "CTP North East",
    "CTP North West",
    "CTP West Midlands",
    "CTP East Midlands",
    "CTP Eastern",
    "CTP South East",
    "CTP South West",
    "CTP Wales",
    "CTP London",
)
