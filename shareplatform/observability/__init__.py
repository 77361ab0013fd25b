"""Observability: liveness and readiness, structured logs with a request id, Prometheus metrics.

Not a feature (it has no `register`): create_app calls `init_app` after the web layer, so its
request hooks are placed around every other one (shareplatform/observability/logs.py).
"""

from __future__ import annotations

from flask import Flask

from . import health, logs, metrics


def init_app(app: Flask) -> None:
    production = bool(app.extensions["shareplatform"].config.PRODUCTION)
    logs.init_app(app, production)
    metrics.init_app(app)
    health.init_app(app)


__all__ = ["init_app"]
