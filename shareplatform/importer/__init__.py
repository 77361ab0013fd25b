"""Importing nominals and records from existing systems' extracts (CSV or JSON)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from . import cli

    app.cli.add_command(cli.import_cli)
