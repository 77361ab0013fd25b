"""Management information: dashboards, Level 3 reviews, standards, workload.

Plain rules and settings (standards.py, settings.py), the viewer's scope through the access layer
(scope.py), the figures (reviews.py, compliance.py, workload.py, dashboard.py), SVG charts
(charts.py) and the pages (views.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from ..access.vocabulary import Permission
    from ..web.shell import add_nav
    from . import source, views

    app.register_blueprint(views.bp)
    source.close_at_teardown(app)
    add_nav(app, "Reports", "reports.dashboard_page", Permission.CASE_READ, order=70)
