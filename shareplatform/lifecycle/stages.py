"""The case lifecycle as plain domain rules (no Flask, no SQLAlchemy).

A case moves identify -> Pathfinder -> NSD triage -> pre-release -> supervision <-> review -> exit.
Each stage has checklist items; an item is judged only from recorded facts (a `CaseFacts`
snapshot built by the service), so "what is outstanding" is never typed in by hand.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..domain.cases import RecordType
from ..domain.errors import InvalidValue


class _Coded(enum.StrEnum):
    @classmethod
    def parse(cls, value: object, kind: str = ""):
        text = str(value or "").strip().upper().replace("-", "_").replace(" ", "_")
        for member in cls:
            if member.value == text:
                return member
        raise InvalidValue(kind or cls.__name__.lower(), value, [m.value for m in cls])

    @property
    def title(self) -> str:  # type: ignore[override]
        return TITLES.get(self.value, self.value.replace("_", " ").capitalize())


class Stage(_Coded):
    IDENTIFY = "IDENTIFY"
    PATHFINDER = "PATHFINDER"
    TRIAGE = "TRIAGE"
    PRE_RELEASE = "PRE_RELEASE"
    SUPERVISION = "SUPERVISION"
    REVIEW = "REVIEW"
    EXIT = "EXIT"


ORDER = list(Stage)
# Moves allowed besides the next stage: supervision and review alternate; exit from either;
# a re-triage (category changed, transfer) goes back to triage from any later stage.
EXTRA_MOVES = {
    Stage.REVIEW: {Stage.SUPERVISION, Stage.EXIT, Stage.TRIAGE},
    Stage.SUPERVISION: {Stage.EXIT, Stage.TRIAGE},
    Stage.PRE_RELEASE: {Stage.TRIAGE},
    Stage.IDENTIFY: {Stage.TRIAGE},  # community cases need no Pathfinder referral
}


def allowed_moves(current: Stage) -> list[Stage]:
    nxt = ORDER[ORDER.index(current) + 1 : ORDER.index(current) + 2]
    return [s for s in ORDER if s in set(nxt) | EXTRA_MOVES.get(current, set())]


def check_move(current: Stage, target: Stage) -> None:
    if target not in allowed_moves(current):
        options = ", ".join(s.title for s in allowed_moves(current)) or "none"
        raise InvalidValue(
            "next stage", target.title, why=f"a case at {current.title} can move only to: {options}"
        )


def default_stage(phase: str) -> Stage:
    """Where a case stands before any transition is recorded: by its phase."""
    return Stage.IDENTIFY if phase == "CUSTODY" else Stage.SUPERVISION


class Step(_Coded):
    """Facts recorded on a case by a practitioner (append-only; the latest of each counts)."""

    CONVICTED = "CONVICTED"
    VISOR_LINKED = "VISOR_LINKED"
    PATHFINDER_REFERRAL = "PATHFINDER_REFERRAL"
    PATHFINDER_VALIDATED = "PATHFINDER_VALIDATED"
    CIM_LEVEL = "CIM_LEVEL"
    POM_INVITED = "POM_INVITED"
    POM_FEEDBACK = "POM_FEEDBACK"
    NSD_TRIAGE = "NSD_TRIAGE"
    POM_COM_HANDOVER = "POM_COM_HANDOVER"
    EXIT_PLAN = "EXIT_PLAN"
    RTOAF = "RTOAF"
    EXIT_HANDOVER = "EXIT_HANDOVER"


class TriageOutcome(_Coded):
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"


class TriageReason(_Coded):
    """Coded rationale of an NSD triage panel (terrorist-risk cases)."""

    TR01_TACT_HISTORY = "TR01_TACT_HISTORY"
    TR02_IDEOLOGY_EVIDENCED = "TR02_IDEOLOGY_EVIDENCED"
    TR03_INTELLIGENCE = "TR03_INTELLIGENCE"
    TR04_CUSTODY_CONDUCT = "TR04_CUSTODY_CONDUCT"
    TR05_NO_TERRORIST_RISK = "TR05_NO_TERRORIST_RISK"
    TR06_MANAGED_ELSEWHERE = "TR06_MANAGED_ELSEWHERE"


ACCEPTING = {
    TriageReason.TR01_TACT_HISTORY,
    TriageReason.TR02_IDEOLOGY_EVIDENCED,
    TriageReason.TR03_INTELLIGENCE,
    TriageReason.TR04_CUSTODY_CONDUCT,
}


class ExitRoute(_Coded):
    POLICE_NOMINAL_MANAGEMENT = "POLICE_NOMINAL_MANAGEMENT"
    GENERIC_PROBATION = "GENERIC_PROBATION"


@dataclass(frozen=True)
class LifecycleSettings:
    """Configuration, not law: the ERG window, CIM scheme versions and RTOAF form versions."""

    erg_window_months: int = 12
    cim_versions: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"CIM-2021": ("1", "2", "3"), "CIM-2024": ("1", "2", "3", "4")}
    )
    cim_current: str = "CIM-2024"
    rtoaf_versions: tuple[str, ...] = ("RTOAF-1.0", "RTOAF-2.0")
    rtoaf_current: str = "RTOAF-2.0"


SETTINGS = LifecycleSettings()


def validate_step_value(step: Step, value: str, settings: LifecycleSettings = SETTINGS) -> str:
    """The short coded value a step carries (CIM level@version, triage outcome, exit route...)."""
    value = (value or "").strip()
    if step is Step.CIM_LEVEL:
        level, _, version = value.partition("@")
        version = version or settings.cim_current
        if version not in settings.cim_versions:
            raise InvalidValue("CIM version", version, list(settings.cim_versions))
        if level not in settings.cim_versions[version]:
            raise InvalidValue("CIM level", level, list(settings.cim_versions[version]))
        return f"{level}@{version}"
    if step is Step.RTOAF:
        version = value or settings.rtoaf_current
        if version not in settings.rtoaf_versions:
            raise InvalidValue("RTOAF form version", version, list(settings.rtoaf_versions))
        return version
    if step is Step.EXIT_HANDOVER:
        return ExitRoute.parse(value, "handover route").value
    if step is Step.NSD_TRIAGE:
        raise InvalidValue("step", step.value, why="record a triage through the triage form")
    if value:
        raise InvalidValue("value", value, why=f"{step.title} carries no coded value")
    return ""


def triage_value(outcome: str, reason: str, category: str) -> str:
    """`OUTCOME|REASON|CATEGORY`: the category is kept so a later change calls for re-triage."""
    out = TriageOutcome.parse(outcome, "triage outcome")
    why = TriageReason.parse(reason, "triage rationale code")
    if (out is TriageOutcome.ACCEPTED) != (why in ACCEPTING):
        raise InvalidValue(
            "triage rationale code",
            why.value,
            why=f"this code does not support a decision to {out.value.lower()} the case",
        )
    return f"{out.value}|{why.value}|{category}"


# -- facts a stage's items are judged on ----------------------------------------------------------
@dataclass(frozen=True)
class StepFact:
    value: str
    on: date
    record_id: object = None


@dataclass
class CaseFacts:
    """A snapshot of what is recorded on a case (built by the service from the database)."""

    category: str
    phase: str
    mappa_category: int
    today: date
    records: dict[str, list[date]] = field(
        default_factory=dict
    )  # record type -> dates, newest first
    capacities: dict[str, str] = field(default_factory=dict)  # current capacity -> holder's name
    meetings: dict[str, list[date]] = field(default_factory=dict)  # meeting type -> dates
    steps: dict[str, StepFact] = field(default_factory=dict)  # latest of each step
    stage_since: date | None = None
    plan_version: int = 0
    plan_on: date | None = None
    plan_countersigned: bool = False
    plan_stale: bool = False
    checklists: dict[str, bool] = field(default_factory=dict)  # transition -> complete (latest)

    def latest(self, record_type: RecordType) -> date | None:
        dates = self.records.get(record_type.value, [])
        return dates[0] if dates else None

    def since(self, kinds: tuple[str, ...], start: date | None) -> bool:
        return any(d >= (start or date.min) for k in kinds for d in self.meetings.get(k, []))


@dataclass(frozen=True)
class Outcome:
    done: bool
    detail: str = ""


@dataclass(frozen=True)
class Item:
    code: str
    title: str
    owner: tuple[str, ...]  # capacities on the case that own it, first present wins
    judge: Callable[[CaseFacts, LifecycleSettings], Outcome]


def _step(step: Step, what: str = "") -> Callable[[CaseFacts, LifecycleSettings], Outcome]:
    def judge(f: CaseFacts, _s: LifecycleSettings) -> Outcome:
        fact = f.steps.get(step.value)
        if fact is None:
            return Outcome(False, what or f"record the {step.title.lower()}")
        shown = f": {fact.value.replace('@', ' under ')}" if fact.value else ""
        return Outcome(True, f"recorded {fact.on.isoformat()}{shown}")

    return judge


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    return day  # unreachable: every month has a 28th


def _pathfinder_assessment(f: CaseFacts, s: LifecycleSettings) -> Outcome:
    """An ERG 22+ within the window after conviction, or a Pathfinder Guidance Framework."""
    pgf = f.latest(RecordType.ASSESSMENT_PGF)
    if pgf is not None:
        return Outcome(True, f"PGF completed {pgf.isoformat()}")
    convicted = f.steps.get(Step.CONVICTED.value)
    if convicted is None:
        return Outcome(False, "record the conviction date, then the ERG 22+ or a PGF")
    end = add_months(convicted.on, s.erg_window_months)
    in_window = [
        d for d in f.records.get(RecordType.ASSESSMENT_ERG.value, []) if convicted.on <= d <= end
    ]
    if in_window:
        return Outcome(True, f"ERG 22+ completed {in_window[0].isoformat()}")
    if f.today > end:
        return Outcome(
            False,
            f"no ERG 22+ within {s.erg_window_months} months of conviction "
            f"(by {end.isoformat()}): complete a PGF",
        )
    return Outcome(False, f"ERG 22+ due by {end.isoformat()}")


def _triage(f: CaseFacts, _s: LifecycleSettings) -> Outcome:
    if f.category == "TERRORIST":
        return Outcome(True, "automatic: terrorist cases are managed by the NSD")
    fact = f.steps.get(Step.NSD_TRIAGE.value)
    if fact is not None:
        outcome, reason, category = (fact.value.split("|") + ["", "", ""])[:3]
        if category != f.category:
            return Outcome(False, "re-triage: the case category has changed since the last triage")
        return Outcome(
            True,
            f"{TriageOutcome.parse(outcome).title} by panel ({reason}) on {fact.on.isoformat()}",
        )
    return Outcome(False, "a triage panel decides, with a coded rationale")


def _handover(f: CaseFacts, _s: LifecycleSettings) -> Outcome:
    if "COM" not in f.capacities:
        return Outcome(False, "allocate a community offender manager")
    return _step(Step.POM_COM_HANDOVER)(f, _s)


def _records(kind: RecordType, what: str) -> Callable[[CaseFacts, LifecycleSettings], Outcome]:
    def judge(f: CaseFacts, _s: LifecycleSettings) -> Outcome:
        on = [d for d in f.records.get(kind.value, []) if d >= (f.stage_since or date.min)]
        return (
            Outcome(True, f"{len(on)} recorded, latest {on[0].isoformat()}")
            if on
            else Outcome(False, what)
        )

    return judge


def _meeting(
    kinds: tuple[str, ...], what: str
) -> Callable[[CaseFacts, LifecycleSettings], Outcome]:
    def judge(f: CaseFacts, _s: LifecycleSettings) -> Outcome:
        return Outcome(True, "held") if f.since(kinds, f.stage_since) else Outcome(False, what)

    return judge


def _plan(f: CaseFacts, _s: LifecycleSettings) -> Outcome:
    if not f.plan_version:
        return Outcome(False, "write the risk management plan")
    if f.plan_stale:
        return Outcome(
            False, f"version {f.plan_version} predates the latest ERG 22+ or PGF: review it"
        )
    if not f.plan_countersigned:
        return Outcome(False, f"version {f.plan_version} awaits the SOL's countersignature")
    return Outcome(True, f"version {f.plan_version}, countersigned")


def _plan_reviewed(f: CaseFacts, s: LifecycleSettings) -> Outcome:
    if f.plan_on is not None and f.stage_since is not None and f.plan_on < f.stage_since:
        return Outcome(False, "write a new version of the plan for this review")
    return _plan(f, s)


def _checklist(transition: str) -> Callable[[CaseFacts, LifecycleSettings], Outcome]:
    def judge(f: CaseFacts, _s: LifecycleSettings) -> Outcome:
        state = f.checklists.get(transition)
        if state is None:
            return Outcome(False, "open the transition checklist (DA and safeguarding enquiries)")
        return (
            Outcome(True, "all enquiries recorded")
            if state
            else Outcome(False, "enquiries outstanding")
        )

    return judge


def _category4(f: CaseFacts, _s: LifecycleSettings) -> Outcome:
    return Outcome(f.mappa_category == 4, f"MAPPA category {f.mappa_category}")


_COM, _POM, _SOL, _NM = ("COM", "SOL"), ("POM", "COM"), ("SOL", "HONSU"), ("NOMINAL_MANAGER", "COM")
ITEMS: dict[Stage, tuple[Item, ...]] = {
    Stage.IDENTIFY: (
        Item("MAPPA_CAT4", "MAPPA category 4 confirmed", _SOL, _category4),
        Item("VISOR", "ViSOR record linked", _NM, _step(Step.VISOR_LINKED)),
        Item("CONVICTION", "Conviction date recorded", _POM, _step(Step.CONVICTED)),
    ),
    Stage.PATHFINDER: (
        Item("REFERRAL", "Pathfinder referral", _POM, _step(Step.PATHFINDER_REFERRAL)),
        Item("VALIDATION", "Referral validated", _SOL, _step(Step.PATHFINDER_VALIDATED)),
        Item(
            "ASSESSMENT",
            "ERG 22+ within 12 months of conviction, or PGF",
            ("PSYCHOLOGIST", "POM", "COM"),
            _pathfinder_assessment,
        ),
        Item("CIM", "CIM level", _SOL, _step(Step.CIM_LEVEL)),
        Item(
            "PF_MEETING",
            "Pathfinder meeting",
            _SOL,
            _meeting(("PATHFINDER",), "hold the Pathfinder meeting"),
        ),
        Item("POM_INVITED", "POM invited to Pathfinder", _SOL, _step(Step.POM_INVITED)),
        Item("POM_FEEDBACK", "Feedback given to the POM", _SOL, _step(Step.POM_FEEDBACK)),
    ),
    Stage.TRIAGE: (Item("TRIAGE", "NSD triage", ("HONSU", "SOL"), _triage),),
    Stage.PRE_RELEASE: (
        Item("HANDOVER", "POM-to-COM handover", _POM, _handover),
        Item(
            "JOINT_VISIT",
            "Joint prison visit",
            _COM,
            _records(RecordType.CONTACT_JOINT_VISIT, "record a joint prison visit"),
        ),
        Item(
            "LEVEL3",
            "MAPPA Level 3 meeting",
            ("HONSU", "LRO"),
            _meeting(("MAPPA_L3",), "hold the Level 3 meeting before release"),
        ),
        Item("PLAN", "Risk management plan", _COM, _plan),
        Item(
            "RELEASE_CHECKS", "Release: DA and safeguarding enquiries", _COM, _checklist("RELEASE")
        ),
    ),
    Stage.SUPERVISION: (
        Item("PLAN", "Risk management plan current", _COM, _plan),
        Item(
            "CONTACTS",
            "Supervision contacts",
            _COM,
            _records(RecordType.CONTACT_OFFICE, "record supervision contacts"),
        ),
    ),
    Stage.REVIEW: (
        Item(
            "REVIEW_MEETING",
            "MAPPA review meeting",
            ("HONSU", "SOL"),
            _meeting(("MAPPA_L2", "MAPPA_L3", "CORE_GROUP"), "hold the review meeting"),
        ),
        Item("PLAN_REVIEWED", "Plan reviewed", _COM, _plan_reviewed),
    ),
    Stage.EXIT: (
        Item("EXIT_PLAN", "Exit plan", _COM, _step(Step.EXIT_PLAN)),
        Item(
            "RTOAF",
            "RTOAF completed",
            _COM,
            _step(Step.RTOAF, "complete the RTOAF (versioned form)"),
        ),
        Item(
            "EXIT_HANDOVER",
            "Handover to police nominal management or generic probation",
            _COM,
            _step(Step.EXIT_HANDOVER),
        ),
        Item(
            "END_CHECKS",
            "Sentence end: DA and safeguarding enquiries",
            _COM,
            _checklist("SENTENCE_END"),
        ),
    ),
}


@dataclass(frozen=True)
class ItemState:
    code: str
    title: str
    done: bool
    detail: str
    owner_capacity: str
    owner: str  # the holder's name, or "" when nobody holds that capacity now


def evaluate(
    stage: Stage, facts: CaseFacts, settings: LifecycleSettings = SETTINGS
) -> list[ItemState]:
    out = []
    for item in ITEMS[stage]:
        result = item.judge(facts, settings)
        capacity = next((c for c in item.owner if c in facts.capacities), item.owner[0])
        out.append(
            ItemState(
                item.code,
                item.title,
                result.done,
                result.detail,
                capacity,
                facts.capacities.get(capacity, ""),
            )
        )
    return out


def stale(plan_on: date | None, latest_assessment: date | None) -> bool:
    """Rec 18: a plan older than the latest ERG 22+ or PGF needs review."""
    return plan_on is not None and latest_assessment is not None and latest_assessment > plan_on


# -- transition checklists (rec 12/13) -------------------------------------------------------------
class Transition(_Coded):
    RELEASE = "RELEASE"
    LEAVING_AP = "LEAVING_AP"
    TRANSFER = "TRANSFER"
    SENTENCE_END = "SENTENCE_END"


class Enquiry(_Coded):
    DOMESTIC_ABUSE = "DOMESTIC_ABUSE"
    CHILD_SAFEGUARDING = "CHILD_SAFEGUARDING"
    ADULT_SAFEGUARDING = "ADULT_SAFEGUARDING"

    @property
    def record_type(self) -> RecordType:
        return RecordType(f"ENQUIRY_{self.value}")


class EnquiryOutcome(_Coded):
    DONE = "DONE"
    NOT_NEEDED = "NOT_NEEDED"
    COURT_STAGE = "COURT_STAGE"


def validate_entry(outcome: EnquiryOutcome, record_type: str | None, reason: str) -> None:
    """Done needs the enquiry's record; the other two outcomes need a reason."""
    if outcome is EnquiryOutcome.DONE and record_type is None:
        raise InvalidValue("enquiry record", "", why="link the record holding the enquiry's result")
    if outcome is not EnquiryOutcome.DONE and not reason.strip():
        raise InvalidValue("reason", "", why=f"say why ({outcome.title.lower()})")
    if len(reason) > 4000:
        raise InvalidValue("reason", reason[:20] + "...", why="must be 4000 characters or fewer")


class Risk(_Coded):
    TERRORISM = "TERRORISM"
    SEXUAL_HARM = "SEXUAL_HARM"
    DOMESTIC_ABUSE = "DOMESTIC_ABUSE"
    VIOLENCE = "VIOLENCE"


PLAN_HEADINGS = ("supervision", "monitoring", "interventions", "victim_safety")
PLAN_BASIS_TYPES = (
    RecordType.ASSESSMENT_OASYS,
    RecordType.ASSESSMENT_ERG,
    RecordType.ASSESSMENT_PGF,
)
SHAREABLE = (RecordType.ASSESSMENT_ERG, RecordType.ASSESSMENT_PGF)


def due_soon(due: date, today: date, days: int = 14) -> bool:
    return due <= today + timedelta(days=days)


TITLES = {
    "PRE_RELEASE": "Pre-release",
    "NSD_TRIAGE": "NSD triage",
    "TRIAGE": "NSD triage",
    "CIM_LEVEL": "CIM level",
    "VISOR_LINKED": "ViSOR link",
    "CONVICTED": "Conviction date",
    "POM_INVITED": "POM invited to Pathfinder",
    "POM_FEEDBACK": "Feedback to the POM",
    "POM_COM_HANDOVER": "POM-to-COM handover",
    "PATHFINDER_REFERRAL": "Pathfinder referral",
    "PATHFINDER_VALIDATED": "Pathfinder validation",
    "RTOAF": "RTOAF",
    "EXIT_PLAN": "Exit plan",
    "EXIT_HANDOVER": "Exit handover",
    "LEAVING_AP": "Leaving approved premises",
    "SENTENCE_END": "Sentence end",
    "COURT_STAGE": "Checks at court stage sufficient",
    "NOT_NEEDED": "Not needed",
    "DONE": "Done",
    "VICTIM_SAFETY": "Victim safety planning",
    "SEXUAL_HARM": "Sexual harm",
    "POLICE_NOMINAL_MANAGEMENT": "Police nominal management",
    "GENERIC_PROBATION": "Generic probation",
    "TR01_TACT_HISTORY": "TR01 terrorism offence history",
    "TR02_IDEOLOGY_EVIDENCED": "TR02 extremist ideology evidenced",
    "TR03_INTELLIGENCE": "TR03 intelligence of terrorist risk",
    "TR04_CUSTODY_CONDUCT": "TR04 conduct in custody",
    "TR05_NO_TERRORIST_RISK": "TR05 no terrorist risk evidenced",
    "TR06_MANAGED_ELSEWHERE": "TR06 managed elsewhere",
}
