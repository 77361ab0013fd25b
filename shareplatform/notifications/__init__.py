"""The notification centre: a count in the header and a page listing what changed for me."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, commands, the header's count, and the receivers of the features' signals."""
    from . import cli, services, views

    services.connect()
    app.register_blueprint(views.bp)
    app.context_processor(views.header_link)
    app.cli.add_command(cli.notifications_cli)
