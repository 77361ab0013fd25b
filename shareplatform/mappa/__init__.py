"""MAPPA meetings, secret disclosures, the signed decision log, actions and break-outs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from ..access.vocabulary import Permission
    from ..web.api import register_api
    from ..web.shell import add_nav
    from . import api, cli, views

    app.register_blueprint(views.bp)
    register_api(app, api.mappa_blp)
    app.cli.commands["audit"].add_command(cli.verify_export_command)  # type: ignore[attr-defined]
    add_nav(app, "My actions", "mappa.actions", Permission.SIGNED_IN, order=30)
