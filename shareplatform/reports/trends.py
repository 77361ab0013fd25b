"""Trends over time: records, contacts and MAPPA reviews per month, for one unit and period.

Every figure goes through the viewer's scope (scope.py) and is read from the reports source
(source.py), as the dashboard's are; national viewers see small numbers suppressed. The filter
(unit and period) is parsed by this module's own functions, so that a bad value answers 400
before any figure is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, extract, func, select, true

from ..access.vocabulary import Kind
from ..audit.log import Event
from ..cases.models import Case
from ..context import Ctx
from ..domain.errors import InvalidValue
from ..domain.labels import Classification
from ..mappa.models import MappaMeeting
from ..records.models import Record
from .dashboard import shown
from .scope import OS, Scope, live, scope_for
from .settings import DEFAULT_REPORT_SETTINGS, ReportSettings
from .source import figures
from .standards import CONTACTS, add_months

PERIODS = (3, 6, 12, 24)  # months a viewer may choose
DEFAULT_PERIOD = 12
ALL_UNITS = ""  # the select's "All units" option


@dataclass(frozen=True)
class UnitChoice:
    value: str  # "nsd:North" or "ct:CTP North East": NSD and CT units may share a name
    title: str


@dataclass(frozen=True)
class TrendFilter:
    unit: str  # a UnitChoice.value, or ALL_UNITS
    months: int


@dataclass(frozen=True)
class Series:
    key: str
    title: str
    values: tuple[int, ...]
    shown: tuple[str, ...]  # what the table prints: the number, or "fewer than 5"

    def charted(self) -> list[int | None]:
        """Suppressed counts draw no point; the table says why."""
        return [v if s == str(v) else None for v, s in zip(self.values, self.shown, strict=True)]


@dataclass(frozen=True)
class Trend:
    key: str
    title: str
    months: tuple[date, ...]  # the first day of each month
    series: tuple[Series, ...]

    def month_labels(self) -> list[str]:
        """Abbreviated month labels ("Mar 25") keep the axis readable."""
        return [m.strftime("%b %y") for m in self.months]

    def month_titles(self) -> list[str]:
        return [m.strftime("%B %Y") for m in self.months]


@dataclass(frozen=True)
class Trends:
    scope: Scope
    filter: TrendFilter
    units: tuple[UnitChoice, ...]
    charts: tuple[Trend, ...]

    def unit_title(self) -> str:
        for u in self.units:
            if u.value == self.filter.unit:
                return u.title
        return "All units"


# -- the filter ---------------------------------------------------------------------------------


def unit_choices(ctx: Ctx, scope: Scope) -> tuple[UnitChoice, ...]:
    """The NSD and CT units of the cases the viewer's figures count, and nothing else: a unit
    outside the scope is refused exactly as a unit that does not exist."""
    rows = figures(ctx).execute(select(Case.nsd_unit, Case.ct_unit).where(scope.cases()).distinct())
    nsd, ct = set(), set()
    for n, c in rows:
        nsd.add(n) if n else None
        ct.add(c) if c else None
    return tuple(UnitChoice(f"nsd:{u}", f"{u} (NSD unit)") for u in sorted(nsd)) + tuple(
        UnitChoice(f"ct:{u}", f"{u} (CT unit)") for u in sorted(ct)
    )


def parse_trend_filter(args: Mapping[str, str], units: tuple[UnitChoice, ...]) -> TrendFilter:
    """The filter from a GET form; InvalidValue (a 400 page) names the field and allowed values."""
    return TrendFilter(parse_trend_unit(args.get("unit"), units), parse_trend_period(args))


def parse_trend_unit(raw: str | None, units: tuple[UnitChoice, ...]) -> str:
    value = (raw or ALL_UNITS).strip()
    if value != ALL_UNITS and value not in {u.value for u in units}:
        raise InvalidValue("unit", value, why="choose a unit from the list")
    return value


def parse_trend_period(args: Mapping[str, str]) -> int:
    raw = args.get("months")
    if raw is None or raw == "":
        return DEFAULT_PERIOD
    allowed = [str(p) for p in PERIODS]
    if raw.strip() not in allowed:
        raise InvalidValue("period", raw, allowed, why="choose a period from the list")
    return int(raw)


def unit_clause(unit: str) -> ColumnElement[bool]:
    if unit == ALL_UNITS:
        return true()
    kind, _, name = unit.partition(":")
    return (Case.nsd_unit if kind == "nsd" else Case.ct_unit) == name


# -- the figures --------------------------------------------------------------------------------


def period_months(today: date, months: int) -> tuple[date, ...]:
    """The last `months` calendar months, ending with the current one."""
    this = today.replace(day=1)
    return tuple(add_months(this, -k) for k in range(months - 1, -1, -1))


def _by_month(
    ctx: Ctx, column: Any, where: list[ColumnElement[bool]], join: type
) -> Counter[tuple[int, int]]:
    """Rows counted per (year, month) of `column` in SQL (extract: SQLite and PostgreSQL alike)."""
    year, month = extract("year", column), extract("month", column)
    stmt = (
        select(year, month, func.count())
        .select_from(join)
        .join(Case, Case.id == join.case_id)  # type: ignore[attr-defined]
        .where(*where)
        .group_by(year, month)
    )
    return Counter({(int(y), int(m)): n for y, m, n in figures(ctx).execute(stmt)})


def record_trends(ctx: Ctx, scope: Scope, unit: ColumnElement[bool], start: date) -> list[Counter]:
    """Records and contacts the viewer's figures may count, per month of occurrence."""
    base = [scope.records(), live(Record), unit, Record.occurred_on >= start]
    base.append(Record.occurred_on <= ctx.today)
    records = _by_month(ctx, Record.occurred_on, base, Record)
    contacts = _by_month(ctx, Record.occurred_on, [*base, Record.record_type.in_(CONTACTS)], Record)
    return [records, contacts]


def review_trends(ctx: Ctx, scope: Scope, unit: ColumnElement[bool], start: date) -> list[Counter]:
    """MAPPA reviews completed (meetings held) and overdue per month.

    A review is overdue in the month of its date (a meeting's next review date) when that date has
    passed and no later meeting on the case was held by then. Only meetings on cases where the
    viewer may read a meeting's open part are counted (as chairing hours are).
    """
    readable = scope.where_allowed(ctx, Kind.MEETING_OPEN, OS)
    rows = figures(ctx).execute(
        select(MappaMeeting.case_id, MappaMeeting.held_on, MappaMeeting.next_review)
        .join(Case, Case.id == MappaMeeting.case_id)
        .where(readable, unit, MappaMeeting.held_on <= ctx.today)
    )
    held: dict[object, list[date]] = {}
    due: list[tuple[object, date, date]] = []
    for case_id, held_on, next_review in rows:
        held.setdefault(case_id, []).append(held_on)
        if next_review is not None:
            due.append((case_id, held_on, next_review))
    completed = Counter((d.year, d.month) for days in held.values() for d in days if d >= start)
    overdue: Counter[tuple[int, int]] = Counter()
    for case_ref, held_on, review_on in due:
        if not start <= review_on < ctx.today:
            continue
        if not any(held_on < d <= review_on for d in held[case_ref]):
            overdue[(review_on.year, review_on.month)] += 1
    return [completed, overdue]


def _series(
    key: str,
    title: str,
    counts: Counter,
    months: tuple[date, ...],
    scope: Scope,
    settings: ReportSettings,
) -> Series:
    values = tuple(counts.get((m.year, m.month), 0) for m in months)
    return Series(key, title, values, tuple(shown(v, scope, settings) for v in values))


def trends(
    ctx: Ctx, args: Mapping[str, str], settings: ReportSettings = DEFAULT_REPORT_SETTINGS
) -> Trends:
    """The trend charts for the filter in `args` (InvalidValue when it is bad); one audit entry."""
    scope = scope_for(ctx)
    units = unit_choices(ctx, scope)
    chosen = parse_trend_filter(args, units)
    months = period_months(ctx.today, chosen.months)
    unit = unit_clause(chosen.unit)
    records, contacts = record_trends(ctx, scope, unit, months[0])
    completed, overdue = review_trends(ctx, scope, unit, months[0])

    def series(key: str, title: str, counts: Counter) -> Series:
        return _series(key, title, counts, months, scope, settings)

    charts = (
        Trend(
            "activity",
            "Records and contacts per month",
            months,
            (series("records", "Records", records), series("contacts", "Contacts", contacts)),
        ),
        Trend(
            "reviews",
            "MAPPA reviews completed and overdue per month",
            months,
            (
                series("completed", "Reviews completed", completed),
                series("overdue", "Reviews overdue", overdue),
            ),
        ),
    )
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="reports.trends",
            object_type="statistics",
            outcome="allow",
            label=Classification.OFFICIAL_SENSITIVE,
            detail={
                "scope": "national" if scope.national else "own",
                "unit": chosen.unit or "all",
                "months": chosen.months,
            },
        ),
    )
    return Trends(scope, chosen, units, charts)
