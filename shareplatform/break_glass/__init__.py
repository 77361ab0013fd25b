"""Emergency ("break-glass") access to a case for someone not on its team, and its review."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from ..access.vocabulary import Permission
    from ..web.shell import add_nav
    from . import views

    app.register_blueprint(views.bp)
    add_nav(
        app, "Break-glass reviews", "break_glass.reviews", Permission.BREAK_GLASS_REVIEW, order=80
    )
