"""The platform's rules in plain Python: no Flask, no SQLAlchemy."""

from .agencies import CORRIDOR_ROLES, PLATFORM_ROLES, Agency, Oversight, Role, Tier
from .cases import CaseCategory, MappaCategory, MappaLevel, Phase, RecordFamily, RecordType
from .errors import DomainError, InvalidValue, NotFound, NotPermitted
from .labels import Caveat, Classification, Label, dominates, highest
from .vetting import Vetting, VettingStatus

__all__ = [
    "CORRIDOR_ROLES",
    "PLATFORM_ROLES",
    "Agency",
    "Caveat",
    "CaseCategory",
    "Classification",
    "DomainError",
    "InvalidValue",
    "Label",
    "MappaCategory",
    "MappaLevel",
    "NotFound",
    "NotPermitted",
    "Oversight",
    "Phase",
    "RecordFamily",
    "RecordType",
    "Role",
    "Tier",
    "Vetting",
    "VettingStatus",
    "dominates",
    "highest",
]
