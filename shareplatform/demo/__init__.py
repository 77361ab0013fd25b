"""Demonstration data: the demo seed and its sign-ins."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from . import cli

    app.cli.add_command(cli.demo_cli)
