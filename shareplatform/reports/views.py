"""Management information pages: dashboard per role, Level 3 review list, standards per case.

Views parse, call one service and render; every figure comes from shareplatform.reports, which
computes it over what the viewer may see and audits the view.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from markupsafe import Markup

from ..audit.log import Event
from ..domain.labels import Classification
from ..reports import charts
from ..reports.compliance import case_compliance
from ..reports.dashboard import Dashboard, Figure, dashboard
from ..reports.reviews import level3_reviews_due
from ..reports.scope import scope_for
from ..reports.trends import PERIODS, Trend, trends
from ..web import csv_export
from ..web.permissions import Permission, requires
from ..web.rendering import render
from ..web.request import ctx

bp = Blueprint("reports", __name__, template_folder="templates")


def chart(figure: Figure) -> Markup:
    """The figure as inline SVG (suppressed counts draw no bar; the table says "fewer than 5")."""
    labels = [c.label for c in figure.cells]
    values = [None if c.hidden else c.value for c in figure.cells]
    return Markup(charts.bar_svg(figure.title, labels, values))  # noqa: S704 - sanitised, escaped by etree


@bp.route("/reports")
@requires(Permission.CASE_READ)
def dashboard_page():
    board: Dashboard = dashboard(ctx())
    labels = [board.highest] + [
        i.action.label.classification.marking for i in board.actions["chaired"]
    ]
    charted = [(f, chart(f)) for f in board.figures if f.cells and f.key != "secret"]
    return render(
        "reports/dashboard.html",
        *labels,
        board=board,
        charted=charted,
        today=ctx().today,
        months=ctx().settings.level3_review_months,
    )


def trend_chart(trend: Trend) -> Markup:
    """The trend as inline SVG lines (suppressed counts break the line; the table says why)."""
    series = [(s.title, s.charted()) for s in trend.series]
    return Markup(charts.line_svg(trend.title, trend.month_labels(), series))  # noqa: S704 - sanitised, escaped by etree


@bp.route("/reports/trends")
@requires(Permission.CASE_READ)
def trends_page():
    """Trends per month for a unit and period chosen in a GET form (a bad value: 400)."""
    found = trends(ctx(), request.args)
    charted = [(t, trend_chart(t)) for t in found.charts]
    return render(
        "reports/trends.html", "OFFICIAL-SENSITIVE", found=found, charted=charted, periods=PERIODS
    )


@bp.route("/reports/figures/<key>.csv")
@requires(Permission.CASE_READ)
def figure_csv(key: str):
    board = dashboard(ctx())
    try:
        figure = board.figure(key)
    except KeyError:
        abort(404)
    c = ctx()
    c.access.record(
        c.session,
        c.subject,
        Event(
            action="reports.export",
            object_type="statistics",
            outcome="allow",
            label=Classification.parse(figure.label),
            detail={"figure": key},
        ),
    )
    marking = [f"Classification: {figure.label}"]
    rows = [marking, [figure.column, "Cases"], *([c.label, c.shown] for c in figure.cells), marking]
    return Response(
        csv_export.to_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{key}.csv"'},
    )


@bp.route("/reports/reviews")
@requires(Permission.CASE_READ)
def reviews():
    c = ctx()
    scope = scope_for(c)
    due = level3_reviews_due(c, scope)
    c.access.record(
        c.session,
        c.subject,
        Event(
            action="reports.reviews",
            object_type="statistics",
            outcome="allow",
            label=Classification.OFFICIAL_SENSITIVE,
            detail={"due": [r.reference for r in due]},
        ),
    )
    return render(
        "reports/reviews.html",
        "OFFICIAL-SENSITIVE",
        due=due,
        scope=scope,
        today=c.today,
        months=c.settings.level3_review_months,
    )


@bp.route("/reports/cases/<case_id>/standards")
@requires(Permission.CASE_READ)
def case_standards(case_id: str):
    case, results = case_compliance(ctx(), case_id)
    return render("reports/case_standards.html", "OFFICIAL-SENSITIVE", case=case, results=results)


@bp.route("/reports/charts.css")
@requires(Permission.SIGNED_IN)
def chart_css():
    return Response(charts.stylesheet(), mimetype="text/css")
