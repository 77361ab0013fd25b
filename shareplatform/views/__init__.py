"""Web views: each feature's blueprint is registered here."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

# "module:blueprint" under shareplatform.views; one line per feature (add yours at the end).
BLUEPRINTS = [
    "auth:bp",
    "cases:bp",
    "records:bp",
    "admin:bp",  # policy editor, users, case teams, audit viewer (issue 6)
    "mappa:bp",  # MAPPA meetings, disclosures, signed decisions, actions, exports (issue 5)
    "tokens:bp",  # your personal API tokens: create (shown once), list, revoke
    "reports:bp",  # management information: dashboards, Level 3 reviews, standards (issue 9)
    "lifecycle:bp",  # case lifecycle, transition checklists, risk management plans (issue 9)
    "break_glass:bp",  # emergency access to a case, and its review by HoNSU/LRO
]


def init_app(app: Flask) -> None:
    """The web shell (sessions, CSRF, headers, permissions, error pages), then every blueprint."""
    from . import errors, shell

    shell.init_app(app)
    errors.init_app(app)
    for entry in BLUEPRINTS:
        module, _, name = entry.partition(":")
        app.register_blueprint(getattr(import_module(f"{__name__}.{module}"), name))
    # the JSON API under /api/v1 (token auth, problem+json)
    import_module("shareplatform.api").init_app(app)
