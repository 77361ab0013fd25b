"""The case lifecycle as plain rules (shareplatform/lifecycle/stages.py): transitions, step values,
triage codes, the items of each stage judged from a CaseFacts snapshot, enquiry entries."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest

from shareplatform.domain.cases import RecordType
from shareplatform.domain.errors import InvalidValue
from shareplatform.lifecycle.stages import (
    ITEMS,
    CaseFacts,
    Enquiry,
    EnquiryOutcome,
    ItemState,
    LifecycleSettings,
    Stage,
    Step,
    StepFact,
    add_months,
    allowed_moves,
    check_move,
    default_stage,
    due_soon,
    evaluate,
    stale,
    triage_value,
    validate_entry,
    validate_step_value,
)

# docs/domain.md's workflow order, with supervision <-> review, exit from either, re-triage from any
# later stage, and community cases skipping Pathfinder.
MOVES = {
    "IDENTIFY": {"PATHFINDER", "TRIAGE"},
    "PATHFINDER": {"TRIAGE"},
    "TRIAGE": {"PRE_RELEASE"},
    "PRE_RELEASE": {"SUPERVISION", "TRIAGE"},
    "SUPERVISION": {"REVIEW", "EXIT", "TRIAGE"},
    "REVIEW": {"SUPERVISION", "EXIT", "TRIAGE"},
    "EXIT": set(),
}


def test_stages_in_workflow_order() -> None:
    assert [s.value for s in Stage] == list(MOVES)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(MOVES, MOVES)))
def test_every_transition(current: str, target: str) -> None:
    here, there = Stage(current), Stage(target)
    if target in MOVES[current]:
        check_move(here, there)
        assert there in allowed_moves(here)
    else:
        with pytest.raises(InvalidValue) as err:
            check_move(here, there)
        assert there not in allowed_moves(here)
        assert err.value.kind == "next stage"
        assert here.title in err.value.why


def test_allowed_moves_are_in_stage_order() -> None:
    order = list(Stage)
    for stage in Stage:
        moves = allowed_moves(stage)
        assert moves == sorted(moves, key=order.index)


def test_exit_is_final_and_says_so() -> None:
    assert allowed_moves(Stage.EXIT) == []
    with pytest.raises(InvalidValue, match="none"):
        check_move(Stage.EXIT, Stage.SUPERVISION)


@pytest.mark.parametrize(
    ("phase", "stage"),
    [
        ("CUSTODY", Stage.IDENTIFY),
        ("COMMUNITY", Stage.SUPERVISION),
        ("POST_SENTENCE", Stage.SUPERVISION),
    ],
)
def test_default_stage_by_phase(phase: str, stage: Stage) -> None:
    assert default_stage(phase) is stage


def test_stage_parse_and_titles() -> None:
    assert Stage.parse("pre-release") is Stage.PRE_RELEASE
    assert Stage.PRE_RELEASE.title == "Pre-release"
    assert Stage.TRIAGE.title == "NSD triage"
    assert Stage.SUPERVISION.title == "Supervision"
    with pytest.raises(InvalidValue) as err:
        Stage.parse("parole", "next stage")
    assert err.value.kind == "next stage"


# -- step values ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("step", "value", "stored"),
    [
        (Step.CIM_LEVEL, "3", "3@CIM-2024"),
        (Step.CIM_LEVEL, "4", "4@CIM-2024"),
        (Step.CIM_LEVEL, " 2@CIM-2021 ", "2@CIM-2021"),
        (Step.RTOAF, "", "RTOAF-2.0"),
        (Step.RTOAF, "RTOAF-1.0", "RTOAF-1.0"),
        (Step.EXIT_HANDOVER, "generic probation", "GENERIC_PROBATION"),
        (Step.EXIT_HANDOVER, "police-nominal-management", "POLICE_NOMINAL_MANAGEMENT"),
        (Step.VISOR_LINKED, "", ""),
        (Step.CONVICTED, "  ", ""),
    ],
)
def test_step_values_are_coded(step: Step, value: str, stored: str) -> None:
    assert validate_step_value(step, value) == stored


@pytest.mark.parametrize(
    ("step", "value"),
    [
        (Step.CIM_LEVEL, "4@CIM-2021"),  # the 2021 scheme had three levels
        (Step.CIM_LEVEL, "5"),
        (Step.CIM_LEVEL, ""),
        (Step.CIM_LEVEL, "1@CIM-1999"),
        (Step.RTOAF, "RTOAF-3.0"),
        (Step.EXIT_HANDOVER, "prison"),
        (Step.EXIT_HANDOVER, ""),
        (Step.NSD_TRIAGE, "ACCEPTED|TR01_TACT_HISTORY|TERRORIST_RISK"),
        (Step.VISOR_LINKED, "V123"),
    ],
)
def test_bad_step_values_are_refused(step: Step, value: str) -> None:
    with pytest.raises(InvalidValue):
        validate_step_value(step, value)


def test_cim_and_rtoaf_versions_are_settings() -> None:
    older = LifecycleSettings(cim_current="CIM-2021", rtoaf_current="RTOAF-1.0")
    assert validate_step_value(Step.CIM_LEVEL, "3", older) == "3@CIM-2021"
    with pytest.raises(InvalidValue):
        validate_step_value(Step.CIM_LEVEL, "4", older)
    assert validate_step_value(Step.RTOAF, "", older) == "RTOAF-1.0"


# -- triage ---------------------------------------------------------------------------------------
REASONS = [
    "TR01_TACT_HISTORY",
    "TR02_IDEOLOGY_EVIDENCED",
    "TR03_INTELLIGENCE",
    "TR04_CUSTODY_CONDUCT",
    "TR05_NO_TERRORIST_RISK",
    "TR06_MANAGED_ELSEWHERE",
]
SUPPORTS_ACCEPTING = set(REASONS[:4])  # TR05 and TR06 are reasons to decline


@pytest.mark.parametrize(
    ("outcome", "reason"), list(itertools.product(["ACCEPTED", "DECLINED"], REASONS))
)
def test_triage_code_must_support_the_outcome(outcome: str, reason: str) -> None:
    consistent = (outcome == "ACCEPTED") == (reason in SUPPORTS_ACCEPTING)
    if consistent:
        assert triage_value(outcome.lower(), reason, "TERRORIST_RISK") == (
            f"{outcome}|{reason}|TERRORIST_RISK"
        )
    else:
        with pytest.raises(InvalidValue, match="does not support"):
            triage_value(outcome, reason, "TERRORIST_RISK")


def test_triage_parses_codes_loosely_and_refuses_unknown_ones() -> None:
    assert triage_value("Accepted", "tr03-intelligence", "X") == "ACCEPTED|TR03_INTELLIGENCE|X"
    with pytest.raises(InvalidValue):
        triage_value("DEFERRED", "TR01_TACT_HISTORY", "X")
    with pytest.raises(InvalidValue):
        triage_value("ACCEPTED", "TR99", "X")


# -- add_months -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 4, 30)),
        (date(2024, 11, 15), 3, date(2025, 2, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 1, 15), -1, date(2023, 12, 15)),
        (date(2024, 6, 1), 0, date(2024, 6, 1)),
        (date(2024, 12, 31), 12, date(2025, 12, 31)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# -- items of each stage --------------------------------------------------------------------------
TODAY = date(2026, 6, 1)


def facts(**kw: Any) -> CaseFacts:
    kw.setdefault("category", "TERRORIST")
    kw.setdefault("phase", "CUSTODY")
    kw.setdefault("mappa_category", 4)
    kw.setdefault("today", TODAY)
    return CaseFacts(**kw)


def item(
    stage: Stage, code: str, f: CaseFacts, settings: LifecycleSettings | None = None
) -> ItemState:
    states = {s.code: s for s in (evaluate(stage, f, settings) if settings else evaluate(stage, f))}
    return states[code]


def test_every_stage_has_items_with_unique_codes_and_owners() -> None:
    assert set(ITEMS) == set(Stage)
    for stage, items in ITEMS.items():
        assert items, stage
        assert len({i.code for i in items}) == len(items)
        assert all(i.owner for i in items)


def test_nothing_recorded_means_everything_outstanding_except_category() -> None:
    f = facts(category="TERRORIST_RISK", mappa_category=3)
    for stage in Stage:
        assert not any(s.done for s in evaluate(stage, f)), stage


@pytest.mark.parametrize(("category", "done"), [(4, True), (3, False), (1, False)])
def test_identify_needs_mappa_category_4(category: int, done: bool) -> None:
    state = item(Stage.IDENTIFY, "MAPPA_CAT4", facts(mappa_category=category))
    assert state.done is done
    assert state.detail == f"MAPPA category {category}"


def test_step_items_show_when_and_what_was_recorded() -> None:
    f = facts(steps={"CIM_LEVEL": StepFact("3@CIM-2024", date(2026, 2, 3))})
    state = item(Stage.PATHFINDER, "CIM", f)
    assert state.done
    assert state.detail == "recorded 2026-02-03: 3 under CIM-2024"
    assert not item(Stage.PATHFINDER, "REFERRAL", f).done


def test_item_owner_is_the_first_capacity_present() -> None:
    nobody = item(Stage.IDENTIFY, "VISOR", facts())
    assert (nobody.owner_capacity, nobody.owner) == ("NOMINAL_MANAGER", "")
    com_only = item(Stage.IDENTIFY, "VISOR", facts(capacities={"COM": "Ann Carter"}))
    assert (com_only.owner_capacity, com_only.owner) == ("COM", "Ann Carter")
    both = facts(capacities={"COM": "Ann Carter", "NOMINAL_MANAGER": "DC Patel"})
    assert item(Stage.IDENTIFY, "VISOR", both).owner == "DC Patel"


CONVICTED = date(2024, 1, 31)
WINDOW_END = date(2025, 1, 31)  # twelve months after conviction


@pytest.mark.parametrize(
    ("erg_dates", "pgf", "today", "done", "hint"),
    [
        ([], None, date(2024, 6, 1), False, "ERG 22+ due by 2025-01-31"),
        ([date(2024, 6, 1)], None, date(2024, 7, 1), True, "ERG 22+ completed 2024-06-01"),
        ([WINDOW_END], None, date(2025, 3, 1), True, "ERG 22+ completed 2025-01-31"),
        ([date(2025, 2, 1)], None, date(2025, 3, 1), False, "complete a PGF"),
        ([date(2023, 12, 1)], None, date(2024, 3, 1), False, "due by"),  # before conviction
        ([], None, date(2025, 2, 1), False, "no ERG 22+ within 12 months"),
        ([], date(2025, 6, 1), date(2025, 7, 1), True, "PGF completed 2025-06-01"),
    ],
)
def test_pathfinder_assessment_window(
    erg_dates: list[date], pgf: date | None, today: date, done: bool, hint: str
) -> None:
    records = {"ASSESSMENT_ERG": sorted(erg_dates, reverse=True)}
    if pgf:
        records["ASSESSMENT_PGF"] = [pgf]
    f = facts(today=today, records=records, steps={"CONVICTED": StepFact("", CONVICTED)})
    state = item(Stage.PATHFINDER, "ASSESSMENT", f)
    assert state.done is done
    assert hint in state.detail


def test_pathfinder_assessment_needs_the_conviction_date() -> None:
    f = facts(records={"ASSESSMENT_ERG": [date(2024, 6, 1)]})
    state = item(Stage.PATHFINDER, "ASSESSMENT", f)
    assert not state.done and "conviction date" in state.detail


def test_erg_window_is_a_setting() -> None:
    f = facts(
        today=date(2025, 3, 1),
        records={"ASSESSMENT_ERG": [date(2024, 9, 1)]},
        steps={"CONVICTED": StepFact("", CONVICTED)},
    )
    assert item(Stage.PATHFINDER, "ASSESSMENT", f).done
    assert not item(Stage.PATHFINDER, "ASSESSMENT", f, LifecycleSettings(erg_window_months=6)).done


def test_terrorist_cases_are_triaged_automatically() -> None:
    assert item(Stage.TRIAGE, "TRIAGE", facts(category="TERRORIST")).done
    assert not item(Stage.TRIAGE, "TRIAGE", facts(category="TERRORIST_RISK")).done


def test_triage_decision_counts_until_the_category_changes() -> None:
    value = triage_value("ACCEPTED", "TR02_IDEOLOGY_EVIDENCED", "TERRORIST_RISK")
    steps = {"NSD_TRIAGE": StepFact(value, date(2026, 1, 5))}
    same = item(Stage.TRIAGE, "TRIAGE", facts(category="TERRORIST_RISK", steps=steps))
    assert same.done and "Accepted" in same.detail and "2026-01-05" in same.detail
    changed = item(Stage.TRIAGE, "TRIAGE", facts(category="TERRORIST_CONNECTED", steps=steps))
    assert not changed.done and "re-triage" in changed.detail


def test_handover_needs_a_com_then_the_step() -> None:
    step = {"POM_COM_HANDOVER": StepFact("", date(2026, 5, 1))}
    no_com = item(Stage.PRE_RELEASE, "HANDOVER", facts(steps=step))
    assert not no_com.done and "allocate a community offender manager" in no_com.detail
    com = {"COM": "Ann Carter"}
    assert not item(Stage.PRE_RELEASE, "HANDOVER", facts(capacities=com)).done
    assert item(Stage.PRE_RELEASE, "HANDOVER", facts(capacities=com, steps=step)).done


def test_records_and_meetings_count_only_since_the_stage_began() -> None:
    since = date(2026, 3, 1)
    before, after = since - timedelta(days=1), since + timedelta(days=1)
    old = facts(
        stage_since=since,
        records={"CONTACT_JOINT_VISIT": [before]},
        meetings={"MAPPA_L3": [before]},
    )
    assert not item(Stage.PRE_RELEASE, "JOINT_VISIT", old).done
    assert not item(Stage.PRE_RELEASE, "LEVEL3", old).done
    new = facts(
        stage_since=since,
        records={"CONTACT_JOINT_VISIT": [after, before]},
        meetings={"MAPPA_L3": [since]},
    )
    visit = item(Stage.PRE_RELEASE, "JOINT_VISIT", new)
    assert visit.done and visit.detail == f"1 recorded, latest {after.isoformat()}"
    assert item(Stage.PRE_RELEASE, "LEVEL3", new).done


def test_review_meeting_accepts_level_2_level_3_or_core_group() -> None:
    for kind in ("MAPPA_L2", "MAPPA_L3", "CORE_GROUP"):
        assert item(Stage.REVIEW, "REVIEW_MEETING", facts(meetings={kind: [TODAY]})).done
    assert not item(Stage.REVIEW, "REVIEW_MEETING", facts(meetings={"PATHFINDER": [TODAY]})).done


@pytest.mark.parametrize(
    ("version", "stale_plan", "signed", "done", "hint"),
    [
        (0, False, False, False, "write the risk management plan"),
        (2, True, True, False, "predates the latest ERG 22+ or PGF"),
        (2, False, False, False, "awaits the SOL's countersignature"),
        (3, False, True, True, "version 3, countersigned"),
    ],
)
def test_plan_item(version: int, stale_plan: bool, signed: bool, done: bool, hint: str) -> None:
    f = facts(plan_version=version, plan_stale=stale_plan, plan_countersigned=signed)
    for stage in (Stage.PRE_RELEASE, Stage.SUPERVISION):
        state = item(stage, "PLAN", f)
        assert state.done is done
        assert hint in state.detail
        assert state.owner_capacity == "COM"


def test_a_review_needs_a_plan_written_since_it_began() -> None:
    since = date(2026, 4, 1)
    good = dict(plan_version=2, plan_countersigned=True, stage_since=since)
    old = item(Stage.REVIEW, "PLAN_REVIEWED", facts(plan_on=since - timedelta(days=1), **good))
    assert not old.done and "new version" in old.detail
    assert item(Stage.REVIEW, "PLAN_REVIEWED", facts(plan_on=since, **good)).done


@pytest.mark.parametrize(
    ("state", "done", "hint"),
    [
        (None, False, "open the transition checklist"),
        (False, False, "outstanding"),
        (True, True, "all"),
    ],
)
def test_transition_checklist_items(state: bool | None, done: bool, hint: str) -> None:
    pre = facts(checklists={} if state is None else {"RELEASE": state})
    end = facts(checklists={} if state is None else {"SENTENCE_END": state})
    for stage, code, f in (
        (Stage.PRE_RELEASE, "RELEASE_CHECKS", pre),
        (Stage.EXIT, "END_CHECKS", end),
    ):
        result = item(stage, code, f)
        assert result.done is done and hint in result.detail
    # one transition's checklist does not stand in for another's
    assert not item(Stage.EXIT, "END_CHECKS", facts(checklists={"RELEASE": True})).done


def test_rtoaf_item_asks_for_the_versioned_form() -> None:
    assert "versioned form" in item(Stage.EXIT, "RTOAF", facts()).detail
    assert item(Stage.EXIT, "RTOAF", facts(steps={"RTOAF": StepFact("RTOAF-2.0", TODAY)})).done


# -- plan staleness, enquiries, due dates --------------------------------------------------------
D = date(2026, 1, 10)


@pytest.mark.parametrize(
    ("plan_on", "assessed", "expected"),
    [
        (D, D + timedelta(days=1), True),
        (D, D, False),
        (D, D - timedelta(days=1), False),
        (None, D, False),
        (D, None, False),
    ],
)
def test_stale(plan_on: date | None, assessed: date | None, expected: bool) -> None:
    assert stale(plan_on, assessed) is expected


@pytest.mark.parametrize("enquiry", list(Enquiry))
def test_each_enquiry_has_its_record_type(enquiry: Enquiry) -> None:
    assert enquiry.record_type is RecordType(f"ENQUIRY_{enquiry.value}")
    assert enquiry.record_type.family.value == "enquiry"


def test_enquiry_entries() -> None:
    validate_entry(EnquiryOutcome.DONE, "ENQUIRY_DOMESTIC_ABUSE", "")
    validate_entry(EnquiryOutcome.NOT_NEEDED, None, "no children in the household")
    validate_entry(EnquiryOutcome.COURT_STAGE, None, "x" * 4000)
    with pytest.raises(InvalidValue, match="link the record"):
        validate_entry(EnquiryOutcome.DONE, None, "done, honestly")
    for outcome in (EnquiryOutcome.NOT_NEEDED, EnquiryOutcome.COURT_STAGE):
        with pytest.raises(InvalidValue, match="say why"):
            validate_entry(outcome, None, "   ")
    with pytest.raises(InvalidValue, match="4000 characters"):
        validate_entry(EnquiryOutcome.NOT_NEEDED, None, "x" * 4001)


@pytest.mark.parametrize(("days", "soon"), [(-30, True), (0, True), (14, True), (15, False)])
def test_due_soon(days: int, soon: bool) -> None:
    assert due_soon(TODAY + timedelta(days=days), TODAY) is soon
    assert due_soon(TODAY + timedelta(days=days), TODAY, days=days) is True
