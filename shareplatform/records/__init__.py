"""Records on a case (contacts, assessments, enquiries, plans, minutes): the case page and its
timeline, posting and correcting, who has seen a record."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from ..web.api import register_api
    from ..web.forms import keep_on_timeout
    from . import api, views

    app.register_blueprint(views.bp)
    for endpoint in ("records.new", "records.correct"):  # kept when posted after sign-out
        keep_on_timeout(app, endpoint, views.keep_posted)
    register_api(app, api.record_blp)
