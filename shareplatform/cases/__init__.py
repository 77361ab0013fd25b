"""Nominals, cases, case teams and MAPPA level history."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from ..access.vocabulary import Permission
    from ..web.api import register_api
    from ..web.shell import add_nav
    from . import api, team_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(team_views.bp)
    register_api(app, api.case_blp)
    add_nav(app, "Caseload", "cases.caseload", Permission.CASE_READ, order=10)
    add_nav(app, "Search", "cases.search", Permission.CASE_READ, order=20)
