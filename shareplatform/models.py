"""Imports every model so that the metadata is complete (migrations, tests)."""

from .access.models import BreakGlass, PolicyRule, PolicyState
from .accounts.models import LoginThrottle, User, UserSession
from .audit.models import AuditCheckpoint, AuditEntry, AuditHead
from .cases.models import Case, MappaLevelChange, Nominal, NominalIndex, TeamMembership
from .crypto.models import DataKey, KekVersion
from .db import Base, InstanceMeta
from .records.models import Record, RecordAttendee

__all__ = [
    "AuditCheckpoint", "AuditEntry", "AuditHead", "Base", "BreakGlass", "Case", "DataKey",
    "InstanceMeta", "KekVersion", "LoginThrottle", "MappaLevelChange", "Nominal", "NominalIndex",
    "PolicyRule", "PolicyState", "Record", "RecordAttendee", "TeamMembership", "User", "UserSession",
]
