"""Case lifecycle: stages, transition checklists, risk management plans and assessments shared
with POMs. Domain rules in stages.py; use cases in services.py; pages in views.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from . import release_views, views  # noqa: F401 (release_views adds its routes to views.bp)

    app.register_blueprint(views.bp)
