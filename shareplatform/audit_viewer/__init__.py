"""The audit viewer for auditors: filter, read, export and verify the audit log."""

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
    add_nav(app, "Audit log", "audit.audit", Permission.AUDIT_READ, order=60)
