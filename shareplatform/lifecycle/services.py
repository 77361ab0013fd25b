"""The lifecycle's use cases, one function each (pages, API and dashboards call these)."""

from __future__ import annotations

from .checklists import (
    ChecklistView,
    EntryView,
    NewChecklist,
    NewEntry,
    Outstanding,
    checklists_for_case,
    open_checklist,
    outstanding_checklists,
    record_entry,
)
from .plans import NewPlan, PlanView, countersign, plan_alerts, plans_for_case, record_plan
from .sharing import ShareView, handling_rules, set_handling, share_assessment, sharing_log
from .workflow import (
    LifecycleView,
    case_lifecycle,
    current_stage,
    move_stage,
    record_step,
    record_triage,
)

__all__ = [
    "ChecklistView",
    "EntryView",
    "LifecycleView",
    "NewChecklist",
    "NewEntry",
    "NewPlan",
    "Outstanding",
    "PlanView",
    "ShareView",
    "case_lifecycle",
    "checklists_for_case",
    "countersign",
    "current_stage",
    "handling_rules",
    "move_stage",
    "open_checklist",
    "outstanding_checklists",
    "plan_alerts",
    "plans_for_case",
    "record_entry",
    "record_plan",
    "record_step",
    "record_triage",
    "set_handling",
    "share_assessment",
    "sharing_log",
]
