"""Enhanced national standards (June 2022) as configurable rules, evaluated from recorded contacts.

Plain Python: a rule says how many contacts of which types are due in each period of a window
that opens at release. A period is judged only once it has ended. What the platform cannot know
is said plainly rather than guessed:
- risk of serious harm is not recorded as a field, so "high or very high RoSH" is approximated by
  the MAPPA levels that require it (Levels 2 and 3 need high or very high RoSH; a setting);
- approved-premises and electronic-monitoring durations are judged from the licence conditions
  recorded as data (shareplatform/lifecycle/licence.py): `DurationStandard` below.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

CONTACTS = frozenset(
    {"CONTACT_OFFICE", "CONTACT_HOME_VISIT", "CONTACT_JOINT_VISIT", "CONTACT_PHONE"}
)
VISITS = frozenset({"CONTACT_HOME_VISIT", "CONTACT_JOINT_VISIT"})
SUPERVISED = frozenset({"COMMUNITY", "POST_SENTENCE"})


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has a 28th


@dataclass(frozen=True)
class ContactStandard:
    code: str
    title: str
    record_types: frozenset[str]
    per_period: int  # contacts needed in each period
    period_days: int  # 7: a week, 14: a fortnight
    months: int  # the window's length from release
    levels: frozenset[int] = frozenset({1, 2, 3})  # MAPPA levels it applies to

    def __post_init__(self) -> None:
        if self.per_period < 1 or self.period_days < 1 or self.months < 1:
            raise ValueError(f"standard {self.code}: counts, period and window must be positive")
        if not self.record_types <= CONTACTS:
            raise ValueError(f"standard {self.code}: only contact types can be counted")


DEFAULT_STANDARDS: tuple[ContactStandard, ...] = (
    ContactStandard(
        "two_contacts_weekly",
        "Two contacts a week for the first 12 months",
        CONTACTS,
        per_period=2,
        period_days=7,
        months=12,
        levels=frozenset({2, 3}),
    ),
    ContactStandard(
        "fortnightly_visits",
        "Fortnightly resettlement (home) visits for the first 3 months",
        VISITS,
        per_period=1,
        period_days=14,
        months=3,
    ),
)


@dataclass(frozen=True)
class DurationStandard:
    """A licence condition's planned length: at least `months` (electronic monitoring) or at most
    `months` (approved premises residence, which must leave room for resettlement after it)."""

    code: str
    title: str
    condition_types: frozenset[str]
    months: int
    at_least: bool  # True: at least `months`; False: at most
    required: bool  # True: not having the condition at all fails the standard
    levels: frozenset[int] = frozenset({2, 3})


DURATION_STANDARDS: tuple[DurationStandard, ...] = (
    DurationStandard(
        "approved_premises_12_months",
        "Approved premises residence of up to 12 months",
        frozenset({"APPROVED_PREMISES"}),
        months=12,
        at_least=False,
        required=False,
    ),
    DurationStandard(
        "electronic_monitoring_12_months",
        "Electronic monitoring for at least 12 months",
        frozenset({"EM_CURFEW_TAG", "EM_GPS_TRAIL"}),
        months=12,
        at_least=True,
        required=True,
    ),
)


class Status(enum.StrEnum):
    MET = "met"
    NOT_MET = "not met"
    NOT_APPLICABLE = "not applicable"
    NOT_DUE = "not yet due"  # within the window, but no period has ended yet

    @property
    def title(self) -> str:  # type: ignore[override]
        return self.value.capitalize()


@dataclass(frozen=True)
class CaseFacts:
    """What a standard looks at: the case's phase, MAPPA level and release date."""

    phase: str
    mappa_level: int
    release_date: date | None


@dataclass(frozen=True)
class Compliance:
    standard: ContactStandard | DurationStandard
    status: Status
    reason: str = ""
    periods_judged: int = 0
    periods_met: int = 0
    contacts: int = 0
    missed: tuple[date, ...] = field(default_factory=tuple)  # start of each period not met
    window: tuple[date, date] | None = None

    @property
    def rate(self) -> float | None:
        return self.periods_met / self.periods_judged if self.periods_judged else None

    @property
    def in_window(self) -> bool:
        return self.status in (Status.MET, Status.NOT_MET, Status.NOT_DUE)


def applies(standard: ContactStandard, case: CaseFacts, today: date) -> str:
    """Why the standard does not apply today ("" when it does)."""
    if case.phase not in SUPERVISED:
        return "not under supervision in the community"
    if case.release_date is None:
        return "no release date recorded"
    if case.release_date > today:
        return "not yet released"
    if case.mappa_level not in standard.levels:
        return f"applies at MAPPA level {', '.join(str(x) for x in sorted(standard.levels))}"
    if add_months(case.release_date, standard.months) <= today - timedelta(
        days=standard.period_days
    ):
        return "the standard's window has ended"
    return ""


def evaluate(
    standard: ContactStandard, case: CaseFacts, contacts: Iterable[tuple[str, date]], today: date
) -> Compliance:
    """Judge each ended period of the window from the contacts (type, date) recorded on the case."""
    why = applies(standard, case, today)
    if why:
        return Compliance(standard, Status.NOT_APPLICABLE, why)
    assert case.release_date is not None
    start, end = case.release_date, add_months(case.release_date, standard.months)
    step = timedelta(days=standard.period_days)
    counted = sorted(d for t, d in contacts if t in standard.record_types and start <= d < end)
    judged = met = 0
    missed: list[date] = []
    period = start
    while period + step <= min(end, today + timedelta(days=1)):
        n = sum(1 for d in counted if period <= d < period + step)
        judged += 1
        if n >= standard.per_period:
            met += 1
        else:
            missed.append(period)
        period += step
    if not judged:
        return Compliance(
            standard,
            Status.NOT_DUE,
            "no period has ended yet",
            contacts=len(counted),
            window=(start, end),
        )
    status = Status.MET if met == judged else Status.NOT_MET
    return Compliance(standard, status, "", judged, met, len(counted), tuple(missed), (start, end))


def evaluate_duration(
    standard: DurationStandard,
    case: CaseFacts,
    conditions: Iterable[tuple[str, date, date | None]],
    today: date,
) -> Compliance:
    """Judge the planned span of the case's conditions of the standard's types (type, start,
    end; no end: to the end of the licence) against the standard's months."""
    why = _duration_applies(standard, case, today)
    if why:
        return Compliance(standard, Status.NOT_APPLICABLE, why)
    spans = [(s, e) for t, s, e in conditions if t in standard.condition_types]
    if not spans:
        if standard.required:
            return Compliance(standard, Status.NOT_MET, "no such licence condition recorded")
        return Compliance(standard, Status.NOT_APPLICABLE, "no such licence condition recorded")
    start = min(s for s, _ in spans)
    ends = [e for _, e in spans]
    limit = add_months(start, standard.months)
    if standard.at_least:
        # open-ended runs to the end of the licence: taken as meeting a minimum length
        if None in ends or max(e for e in ends if e is not None) >= limit:
            return Compliance(standard, Status.MET, "", window=(start, limit))
        return Compliance(standard, Status.NOT_MET, "planned for less than 12 months")
    if None in ends:
        return Compliance(standard, Status.NOT_MET, "no end date recorded", window=(start, limit))
    if max(e for e in ends if e is not None) <= limit:
        return Compliance(standard, Status.MET, "", window=(start, limit))
    return Compliance(standard, Status.NOT_MET, "planned for more than 12 months")


def _duration_applies(standard: DurationStandard, case: CaseFacts, today: date) -> str:
    if case.phase not in SUPERVISED:
        return "not under supervision in the community"
    if case.release_date is None:
        return "no release date recorded"
    if case.release_date > today:
        return "not yet released"
    if case.mappa_level not in standard.levels:
        return f"applies at MAPPA level {', '.join(str(x) for x in sorted(standard.levels))}"
    return ""


def level3_review_anchor(
    level_since: date | None, release_date: date | None, created: date, today: date
) -> date | None:
    """When the Level 3 clock started: the last level decision, or release if that came later.

    None while the person is still to be released (the 12 months run after release).
    """
    anchor = level_since or created
    if release_date is not None:
        if release_date > today:
            return None
        anchor = max(anchor, release_date)
    return anchor
