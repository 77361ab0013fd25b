"""Files attached to records and MAPPA decisions: labelled, sealed per level, type-checked from
their content, downloaded only through the access layer with every download audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages and template globals of this feature."""
    from . import views

    app.register_blueprint(views.bp)
    views.register_globals(app)
