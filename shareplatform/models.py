"""Imports every model so that the metadata is complete (migrations, tests)."""

from .access.models import PolicyRule, PolicyState
from .accounts.models import LoginThrottle, User, UserSession
from .accounts.tokens import ApiToken  # noqa: F401,E402  (API tokens)
from .audit.models import AuditCheckpoint, AuditEntry, AuditHead
from .break_glass.models import BreakGlass
from .cases.models import Case, MappaLevelChange, Nominal, NominalIndex, TeamMembership
from .crypto.models import DataKey, KekVersion
from .db import Base, InstanceMeta
from .importer.models import ImportRef  # noqa: F401,E402  (importer source references)
from .mappa.models import MappaDecision  # noqa: F401  (registers the MAPPA decision-log tables)
from .records.models import Record, RecordAttendee

__all__ = [
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "Base",
    "BreakGlass",
    "Case",
    "DataKey",
    "InstanceMeta",
    "KekVersion",
    "LoginThrottle",
    "MappaLevelChange",
    "Nominal",
    "NominalIndex",
    "PolicyRule",
    "PolicyState",
    "Record",
    "RecordAttendee",
    "TeamMembership",
    "User",
    "UserSession",
]
from .lifecycle.models import RiskPlan  # noqa: F401,E402  (case lifecycle, checklists, plans, sharing)
from .policy_admin.models import ChangeLine, ChangeSet, PolicyVersion  # noqa: F401,E402  (policy versions)
