"""The management-information dashboard: one service call, figures for the viewer's scope only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from ..access.vocabulary import Kind
from ..audit.log import Event
from ..cases.models import Case
from ..context import Ctx
from ..domain.agencies import Role
from ..domain.cases import CaseCategory, Phase
from ..domain.labels import Classification
from ..mappa.models import Disclosure, MappaDecision, decision_disclosures
from .compliance import StandardSummary, scope_compliance
from .reviews import ChairingHours, ReviewDue, chairing_hours, level3_reviews_due, upcoming_reviews
from .scope import OS, Scope, scope_for
from .settings import DEFAULT_REPORT_SETTINGS, ReportSettings, suppressed
from .source import figures
from .workload import Workload, workloads

SECRET = Classification.SECRET
MAPPA_CATEGORIES = {
    1: "Category 1: registered sexual offenders",
    2: "Category 2: violent offenders",
    3: "Category 3: other dangerous offenders",
    4: "Category 4: terrorism",
}


@dataclass(frozen=True)
class Cell:
    label: str
    value: int
    shown: str  # what the page prints: the number, or "fewer than 5"

    @property
    def hidden(self) -> bool:
        return self.shown != str(self.value)


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    column: str  # the first column's heading
    cells: tuple[Cell, ...]
    label: Classification = OS  # the highest label of what the figure was derived from

    @property
    def total(self) -> int:
        return sum(c.value for c in self.cells)


@dataclass
class Dashboard:
    scope: Scope
    role: Role
    figures: list[Figure]
    reviews: list[ReviewDue] = field(default_factory=list)
    upcoming: list[Any] = field(default_factory=list)
    chairing: list[ChairingHours] = field(default_factory=list)
    standards: list[StandardSummary] = field(default_factory=list)
    workload: list[Workload] = field(default_factory=list)
    actions: dict[str, list[Any]] = field(default_factory=dict)
    checklists: list[Any] = field(default_factory=list)  # outstanding transition checklists
    highest: Classification = OS
    settings: ReportSettings = DEFAULT_REPORT_SETTINGS

    def figure(self, key: str) -> Figure:
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)

    def count(self, value: int) -> str:
        return shown(value, self.scope, self.settings)


def shown(value: int, scope: Scope, settings: ReportSettings) -> str:
    if scope.suppress and suppressed(value, settings.suppress_below):
        return f"fewer than {settings.suppress_below}"
    return str(value)


def _cells(
    rows: list[tuple[Any, int]],
    order: list[Any],
    title: Callable[[Any], str],
    scope: Scope,
    settings: ReportSettings,
) -> tuple[Cell, ...]:
    counts = {k: n for k, n in rows}
    keys = [k for k in order if k in counts] + sorted(
        (k for k in counts if k not in order), key=str
    )
    return tuple(Cell(title(k), counts[k], shown(counts[k], scope, settings)) for k in keys)


def headcounts(
    ctx: Ctx, scope: Scope, settings: ReportSettings = DEFAULT_REPORT_SETTINGS
) -> list[Figure]:
    """Cases by cohort, phase, MAPPA category and level, NSD unit and CT unit: SQL aggregates."""
    where = scope.cases()

    def by(column: Any) -> list[tuple[Any, int]]:
        return [
            (k, n)
            for k, n in figures(ctx).execute(
                select(column, func.count()).select_from(Case).where(where).group_by(column)
            )
        ]

    def unit(k: Any) -> str:
        return str(k) if k else "None recorded"

    return [
        Figure(
            "category",
            "Cases by cohort",
            "Cohort",
            _cells(
                by(Case.category),
                [c.value for c in CaseCategory],
                lambda k: CaseCategory(k).title,
                scope,
                settings,
            ),
        ),
        Figure(
            "phase",
            "Cases by phase",
            "Phase",
            _cells(
                by(Case.phase), [p.value for p in Phase], lambda k: Phase(k).title, scope, settings
            ),
        ),
        Figure(
            "mappa_category",
            "Cases by MAPPA category",
            "MAPPA category",
            _cells(
                by(Case.mappa_category),
                [4, 3, 2, 1],
                lambda k: MAPPA_CATEGORIES.get(k, str(k)),
                scope,
                settings,
            ),
        ),
        Figure(
            "level",
            "Cases by MAPPA level",
            "MAPPA level",
            _cells(by(Case.mappa_level), [3, 2, 1], lambda k: f"Level {k}", scope, settings),
        ),
        Figure(
            "nsd_unit",
            "Cases by NSD unit",
            "NSD unit",
            _cells(by(Case.nsd_unit), [], unit, scope, settings),
        ),
        Figure(
            "ct_unit",
            "Cases by CT unit",
            "CT unit",
            _cells(by(Case.ct_unit), [], unit, scope, settings),
        ),
    ]


def secret_counts(
    ctx: Ctx, scope: Scope, settings: ReportSettings = DEFAULT_REPORT_SETTINGS
) -> Figure | None:
    """Disclosures and decisions recorded: counted from SECRET material, corridor roles only."""
    if not scope.secret or not ctx.subject.in_corridor:
        return None
    rows = []
    # a decision counts here only when it rests on a disclosure (ordinary decisions have none)
    after_disclosure = MappaDecision.id.in_(select(decision_disclosures.c.decision_id))
    for title, model, kind, only in (
        ("Secret disclosures recorded", Disclosure, Kind.DISCLOSURE, None),
        ("Decisions recorded after disclosures", MappaDecision, Kind.DECISION, after_disclosure),
    ):
        total = 0
        for label in Classification:
            allowed = scope.where_allowed(ctx, kind, label)
            query = (
                select(func.count())
                .select_from(model)
                .join(Case, Case.id == model.case_id)
                .where(model.classification == label.marking, allowed)
            )
            total += figures(ctx).scalar(query if only is None else query.where(only)) or 0
        rows.append((title, total))
    return Figure(
        "secret",
        "The decision log (from SECRET material)",
        "Count",
        tuple(Cell(t, n, shown(n, scope, settings)) for t, n in rows),
        label=SECRET,
    )


def standards_figure(
    summaries: list[StandardSummary], scope: Scope, settings: ReportSettings
) -> Figure:
    cells = []
    for s in summaries:
        cells.append(Cell(f"{s.title}: met", s.met, shown(s.met, scope, settings)))
        cells.append(Cell(f"{s.title}: not met", s.not_met, shown(s.not_met, scope, settings)))
        cells.append(
            Cell(
                f"{s.title}: not applicable",
                s.not_applicable,
                shown(s.not_applicable, scope, settings),
            )
        )
    return Figure(
        "standards", "Cases meeting the enhanced national standards", "Standard", tuple(cells)
    )


def dashboard(ctx: Ctx, settings: ReportSettings = DEFAULT_REPORT_SETTINGS) -> Dashboard:
    """Everything the viewer's dashboard shows, computed over what they may see; one audit entry."""
    from ..lifecycle.services import outstanding_checklists
    from ..mappa.actions import chair_actions, my_actions

    scope = scope_for(ctx)
    figures = headcounts(ctx, scope, settings)
    summaries = scope_compliance(ctx, scope, settings)
    figures.append(standards_figure(summaries, scope, settings))
    secret = secret_counts(ctx, scope, settings)
    if secret is not None:
        figures.append(secret)
    board = Dashboard(scope, ctx.subject.role, figures, settings=settings, standards=summaries)
    if not scope.national:
        board.reviews = level3_reviews_due(ctx, scope)
        board.upcoming = upcoming_reviews(ctx, scope)
        board.chairing = chairing_hours(ctx, scope, settings)
        board.workload = workloads(ctx, scope, settings)
    board.highest = SECRET if secret is not None else OS
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="reports.dashboard",
            object_type="statistics",
            outcome="allow",
            label=Classification.parse(board.highest),
            detail={
                "scope": "national" if scope.national else "own",
                "groups": len(scope.groups),
                "cases": sum(c.value for c in figures[0].cells),
                "reviews_due": len(board.reviews),
                "secret_counts": secret is not None,
            },
        ),
    )
    # open actions and checklists come from their own services (each audits its own reading)
    board.actions = {"mine": my_actions(ctx), "chaired": chair_actions(ctx)}
    board.checklists = outstanding_checklists(ctx)  # from the lifecycle feature
    return board
