"""Editing the access policy: drafts, diff, what-if, guardrails, two-person approval, versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from ..access.vocabulary import Permission
    from ..web.shell import add_nav
    from . import cli, views

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.policy_cli)
    add_nav(app, "Policy", "admin.policy", Permission.POLICY_READ, order=40)
