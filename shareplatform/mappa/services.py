"""The MAPPA decision log's use cases, one function each (forms, API and CLI call these)."""

from __future__ import annotations

from .actions import (
    ActionItem,
    action_page,
    case_actions,
    chair_actions,
    due_summary,
    my_actions,
    release_breakout,
    update_action,
)
from .common import people_of_case
from .decisions import (
    Prepared,
    commit,
    correct_decision,
    may_record,
    prepare_correction,
    prepare_decision,
    record_decision,
)
from .meetings import (
    DisclosureView,
    MeetingView,
    correct_meeting,
    disclosures_for_case,
    meeting_view,
    meetings_for_case,
    record_closed_part,
    record_disclosure,
    record_meeting,
    withdraw_meeting,
)
from .reading import ActionView, BreakoutView, DecisionView, decision_log, decision_page
from .signing import SigningFailed
from .vocab import (
    ActionState,
    Attendee,
    MeetingType,
    NewAction,
    NewBreakout,
    NewDecision,
    NewDisclosure,
    NewMeeting,
    Originator,
)

__all__ = [
    "ActionItem",
    "ActionState",
    "ActionView",
    "Attendee",
    "BreakoutView",
    "DecisionView",
    "DisclosureView",
    "MeetingType",
    "MeetingView",
    "NewAction",
    "NewBreakout",
    "NewDecision",
    "NewDisclosure",
    "NewMeeting",
    "Originator",
    "Prepared",
    "SigningFailed",
    "action_page",
    "case_actions",
    "chair_actions",
    "commit",
    "correct_decision",
    "correct_meeting",
    "decision_log",
    "decision_page",
    "disclosures_for_case",
    "due_summary",
    "meeting_view",
    "may_record",
    "meetings_for_case",
    "my_actions",
    "people_of_case",
    "prepare_correction",
    "prepare_decision",
    "record_closed_part",
    "record_decision",
    "record_disclosure",
    "record_meeting",
    "release_breakout",
    "update_action",
    "withdraw_meeting",
]
