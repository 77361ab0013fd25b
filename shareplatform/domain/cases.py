"""Case vocabulary: categories, phases, MAPPA, record types."""

from __future__ import annotations

import enum

from .enums import parse_member
from .errors import InvalidValue
from .labels import Classification


class _Parsed(enum.StrEnum):
    @classmethod
    def parse(cls, value: object):
        return parse_member(cls, value, _kind(cls.__name__), underscores=True)

    @property
    def title(self) -> str:  # type: ignore[override]
        return _TITLES.get(self.value, self.value.replace("_", " ").capitalize())


def _kind(name: str) -> str:
    return "".join(" " + c.lower() if c.isupper() else c for c in name).strip()


class CaseCategory(_Parsed):
    TERRORIST = "TERRORIST"
    TERRORIST_CONNECTED = "TERRORIST_CONNECTED"
    TERRORIST_RISK = "TERRORIST_RISK"
    CRITICAL_PUBLIC_PROTECTION = "CRITICAL_PUBLIC_PROTECTION"


class Phase(_Parsed):
    CUSTODY = "CUSTODY"
    COMMUNITY = "COMMUNITY"
    POST_SENTENCE = "POST_SENTENCE"


class MappaCategory(enum.IntEnum):
    REGISTERED_SEXUAL_OFFENDER = 1
    VIOLENT_OFFENDER = 2
    OTHER_DANGEROUS_OFFENDER = 3
    TERRORISM = 4

    @classmethod
    def parse(cls, value: object) -> MappaCategory:
        try:
            return cls(int(str(value).strip()))
        except (TypeError, ValueError):
            raise InvalidValue("MAPPA category", value, ["1", "2", "3", "4"]) from None


class MappaLevel(enum.IntEnum):
    ORDINARY = 1
    ACTIVE_MULTI_AGENCY = 2
    SENIOR_MULTI_AGENCY = 3

    @classmethod
    def parse(cls, value: object) -> MappaLevel:
        try:
            return cls(int(str(value).strip()))
        except (TypeError, ValueError):
            raise InvalidValue("MAPPA level", value, ["1", "2", "3"]) from None


class RecordFamily(enum.StrEnum):
    CONTACT = "contact"
    ASSESSMENT = "assessment"
    ENQUIRY = "enquiry"
    PLAN = "plan"
    MINUTES = "minutes"


class RecordType(_Parsed):
    CONTACT_OFFICE = "CONTACT_OFFICE"
    CONTACT_HOME_VISIT = "CONTACT_HOME_VISIT"
    CONTACT_JOINT_VISIT = "CONTACT_JOINT_VISIT"
    CONTACT_PHONE = "CONTACT_PHONE"
    # contacts in custody (docs/domain.md, "Phases"): recorded by prison staff and the POM
    CONTACT_PRISON_KEYWORK = "CONTACT_PRISON_KEYWORK"
    CONTACT_POM_SESSION = "CONTACT_POM_SESSION"
    CONTACT_LEGAL_VISIT = "CONTACT_LEGAL_VISIT"
    CONTACT_ADJUDICATION = "CONTACT_ADJUDICATION"
    ASSESSMENT_OASYS = "ASSESSMENT_OASYS"
    ASSESSMENT_ERG = "ASSESSMENT_ERG"
    ASSESSMENT_PGF = "ASSESSMENT_PGF"
    ASSESSMENT_RTOAF = "ASSESSMENT_RTOAF"
    ASSESSMENT_HOME_VISIT_RISK = "ASSESSMENT_HOME_VISIT_RISK"
    ENQUIRY_DOMESTIC_ABUSE = "ENQUIRY_DOMESTIC_ABUSE"
    ENQUIRY_CHILD_SAFEGUARDING = "ENQUIRY_CHILD_SAFEGUARDING"
    ENQUIRY_ADULT_SAFEGUARDING = "ENQUIRY_ADULT_SAFEGUARDING"
    PLAN_RISK_MANAGEMENT = "PLAN_RISK_MANAGEMENT"
    PLAN_SENTENCE = "PLAN_SENTENCE"
    MINUTES = "MINUTES"
    SANITISED_ACTION = "SANITISED_ACTION"  # low-side break-out released by a chair

    @property
    def minimum_label(self) -> Classification:
        """The lowest label a record of this type may carry (MINIMUM_LABELS; OFFICIAL when
        unlisted). A rule of the domain, checked for every new record, however it arrives."""
        return MINIMUM_LABELS.get(self, Classification.OFFICIAL)

    def check_label(self, classification: Classification) -> None:
        if classification < self.minimum_label:
            raise InvalidValue(
                "classification",
                classification.marking,
                why=f"{self.title.lower()} records are at least {self.minimum_label.marking}",
            )

    @classmethod
    def postable(cls) -> list[RecordType]:
        """Types a user may post on a case, through either face (policy decides who may post
        which). A sanitised action is released by a chair from a MAPPA decision, never posted."""
        return [t for t in cls if t is not cls.SANITISED_ACTION]

    @property
    def family(self) -> RecordFamily:
        head = self.value.split("_", 1)[0].lower()
        return (
            RecordFamily(head) if head in RecordFamily._value2member_map_ else RecordFamily.MINUTES
        )


# Types whose records may never carry a label below a floor (MAPPA minutes are never OFFICIAL).
MINIMUM_LABELS: dict[RecordType, Classification] = {
    RecordType.MINUTES: Classification.OFFICIAL_SENSITIVE,
}

_TITLES = {
    "TERRORIST_RISK": "Terrorist risk",
    "TERRORIST_CONNECTED": "Terrorist connected",
    "CRITICAL_PUBLIC_PROTECTION": "Critical public protection",
    "POST_SENTENCE": "Post-sentence",
    "CONTACT_OFFICE": "Office contact",
    "CONTACT_HOME_VISIT": "Home visit",
    "CONTACT_JOINT_VISIT": "Joint visit",
    "CONTACT_PHONE": "Phone contact",
    "CONTACT_PRISON_KEYWORK": "Prison keywork session",
    "CONTACT_POM_SESSION": "POM session",
    "CONTACT_LEGAL_VISIT": "Legal visit",
    "CONTACT_ADJUDICATION": "Adjudication",
    "ASSESSMENT_OASYS": "OASys assessment",
    "ASSESSMENT_ERG": "ERG 22+ assessment",
    "ASSESSMENT_PGF": "Pathfinder Guidance Framework",
    "ASSESSMENT_RTOAF": "RTOAF assessment",
    "ASSESSMENT_HOME_VISIT_RISK": "Home-visit risk assessment",
    "ENQUIRY_DOMESTIC_ABUSE": "Domestic abuse enquiry",
    "ENQUIRY_CHILD_SAFEGUARDING": "Child safeguarding enquiry",
    "ENQUIRY_ADULT_SAFEGUARDING": "Adult safeguarding enquiry",
    "PLAN_RISK_MANAGEMENT": "Risk management plan",
    "PLAN_SENTENCE": "Sentence plan",
    "MINUTES": "Minutes",
    "SANITISED_ACTION": "Sanitised action",
}
