"""Caseload, nominal search and the case page (with its timeline from every agency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, redirect, request, url_for

from ..access.vocabulary import Act, Kind
from ..cases import services as cases
from ..domain.agencies import Agency
from ..domain.cases import CaseCategory, Phase, RecordType
from ..domain.labels import Classification
from ..records import services as records
from .permissions import Permission, requires
from .rendering import commit, render
from .shell import ctx, current_user

bp = Blueprint("cases", __name__)


@bp.route("/")
@requires(Permission.SIGNED_IN)
def home():  # type: ignore[no-untyped-def]
    c = ctx()
    if c.access.can(
        c.session,
        c.subject,
        Kind.CASE,
        Act.READ,
        Classification.OFFICIAL_SENSITIVE,
    ):
        return redirect(url_for("cases.caseload"))
    return render("cases/home.html", user=current_user())


@bp.route("/cases")
@requires(Permission.CASE_READ)
def caseload():  # type: ignore[no-untyped-def]
    items = cases.caseload(ctx())
    commit()
    # names of nominals are OFFICIAL-SENSITIVE: the page is, as soon as it lists one
    return render(
        "cases/caseload.html", Classification.OFFICIAL_SENSITIVE if items else None, items=items
    )


@bp.route("/search")
@requires(Permission.CASE_READ)
def search():  # type: ignore[no-untyped-def]
    query = (request.args.get("q") or "").strip()[:120]
    error = ""
    results: list = []  # type: ignore[type-arg]
    if "q" in request.args and not query:
        error = "Enter a name or an identifier"
    elif query:
        results = cases.search_nominals(ctx(), query)
        commit()
    return render(
        "cases/search.html",
        [n.label for _, n in results],
        query=query,
        results=results,
        error=error,
        status=400 if error else 200,
    )


@dataclass
class TimelineFilter:
    record_type: str = ""
    agency: str = ""
    date_from: date | None = None
    date_to: date | None = None
    raw: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.record_type or self.agency or self.date_from or self.date_to)


def _date_arg(name: str, title: str, f: TimelineFilter) -> date | None:
    parts = [(request.args.get(f"{name}-{p}") or "").strip() for p in ("day", "month", "year")]
    for p, v in zip(("day", "month", "year"), parts, strict=True):
        f.raw[f"{name}-{p}"] = v[:4]
    if not any(parts):
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        f.errors.append(
            {"text": f"{title} must be a real date, for example 27 3 2024", "href": f"#{name}-day"}
        )
        return None


def parse_filter() -> TimelineFilter:
    f = TimelineFilter()
    rtype = (request.args.get("type") or "").strip()
    if rtype:
        if rtype in RecordType.__members__:
            f.record_type = rtype
        else:
            f.errors.append({"text": "Select a type from the list", "href": "#type"})
    agency = (request.args.get("agency") or "").strip()
    if agency:
        if agency in Agency.__members__:
            f.agency = agency
        else:
            f.errors.append({"text": "Select an agency from the list", "href": "#agency"})
    f.date_from = _date_arg("from", "The start date", f)
    f.date_to = _date_arg("to", "The end date", f)
    if f.date_from and f.date_to and f.date_from > f.date_to:
        f.errors.append(
            {"text": "The start date must be on or before the end date", "href": "#from-day"}
        )
    return f


@bp.route("/cases/<case_id>")
@requires(Permission.CASE_READ)
def case(case_id: str):  # type: ignore[no-untyped-def]
    c = ctx()
    view = cases.case_view(c, case_id)
    f = parse_filter()
    timeline = records.timeline(
        c,
        view.case,
        record_type=f.record_type or None,
        agency=f.agency or None,
        date_from=f.date_from,
        date_to=f.date_to,
    )
    can_write = records.can_write_any(c, view.case)
    commit()
    labels: list[Classification | str | None] = [view.nominal.label, timeline.highest]
    if view.team or view.levels:
        labels.append(Classification.OFFICIAL_SENSITIVE)
    return render(
        "cases/case.html",
        labels,
        view=view,
        can_write=can_write,
        timeline=timeline,
        filter=f,
        identifier_titles=cases.IDENTIFIER_TITLES,
        category_title=CaseCategory(view.case.category).title,
        phase_title=Phase(view.case.phase).title,
        record_types=[t for t in RecordType],
        agencies=[a for a in Agency if a is not Agency.PLATFORM],
        status=400 if f.errors else 200,
    )
