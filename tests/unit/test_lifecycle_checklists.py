"""Pure parts of transition checklists (shareplatform/lifecycle/checklists.py): what is
outstanding on a checklist view."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from shareplatform.lifecycle.checklists import ChecklistView, EntryView
from shareplatform.lifecycle.stages import Enquiry, EnquiryOutcome, Transition


def entry(enquiry: Enquiry) -> EntryView:
    return EntryView(
        enquiry,
        EnquiryOutcome.NOT_NEEDED,
        None,
        None,
        "none needed",
        "Ann",
        datetime(2026, 1, 1),
        None,
    )


def view(*done: Enquiry) -> ChecklistView:
    return ChecklistView(
        uuid.uuid4(),
        uuid.uuid4(),
        Transition.RELEASE,
        date(2026, 6, 1),
        "Ann Carter",
        uuid.uuid4(),
        {e: entry(e) for e in done},
    )


def test_a_new_checklist_has_every_enquiry_outstanding() -> None:
    checklist = view()
    assert checklist.outstanding == list(Enquiry)
    assert not checklist.complete


def test_outstanding_keeps_enquiry_order() -> None:
    checklist = view(Enquiry.CHILD_SAFEGUARDING)
    assert checklist.outstanding == [Enquiry.DOMESTIC_ABUSE, Enquiry.ADULT_SAFEGUARDING]
    assert not checklist.complete


def test_complete_once_every_enquiry_is_recorded() -> None:
    assert view(*Enquiry).complete
    assert view(*Enquiry).outstanding == []


def test_transitions_of_the_domain() -> None:
    # docs/domain.md rec 12/13: release, leaving approved premises, transfer, sentence end
    assert {t.value for t in Transition} == {"RELEASE", "LEAVING_AP", "TRANSFER", "SENTENCE_END"}
    assert Transition.parse("leaving ap") is Transition.LEAVING_AP
    assert Transition.LEAVING_AP.title == "Leaving approved premises"
