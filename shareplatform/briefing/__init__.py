"""The case summary ("what do I need to know now") at the top of the case page, and its PDF.

It sits above cases, records, MAPPA and the lifecycle, whose facts it gathers, and fills the slot
the case page asks for (shareplatform/cases/summary.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages and the case page's summary slot."""
    from ..cases.summary import provide
    from . import services, views

    app.register_blueprint(views.bp)
    provide(app, services.case_summary)
