"""Web views: each feature's blueprint is registered here."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every blueprint (one line per feature)."""
