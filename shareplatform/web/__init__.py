"""The web layer both faces share (GOV.UK pages and the JSON API): the per-request unit of work,
the request pipeline (authenticate, authorise), error answers, and the registration of features.

No central list: every package of shareplatform that defines `register(app)` is a feature and
registers its own pages, API, commands and navigation (docs/architecture.md).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from ..context import Services

# Packages that are not features: the kernel and this layer.
NOT_FEATURES = frozenset({"domain", "crypto", "audit", "access", "web"})


def platform() -> Services:
    """The running platform, as the pages may use it."""
    return current_app.extensions["shareplatform"]


def db_session() -> Session:
    """The request's session; the request's work commits together or not at all."""
    if "db_session" not in g:
        g.db_session = platform().db.sessions()
    return g.db_session


def features() -> Iterator[ModuleType]:
    """Every feature package, in name order."""
    package = importlib.import_module("shareplatform")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.ispkg and info.name not in NOT_FEATURES:
            module = importlib.import_module(f"shareplatform.{info.name}")
            if callable(getattr(module, "register", None)):
                yield module


def init_app(app: Flask) -> None:
    from . import api, errors, pages, shell

    @app.before_request
    def _watch_keys() -> None:
        # a serving process reports the KEK versions it holds (cheap once running; started
        # again in each forked worker). Command-line processes do not serve and do not report.
        platform().key_watch.ensure_running()

    @app.teardown_request
    def _close_session(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()

    shell.init_app(app)
    errors.init_app(app)
    api.init_app(app)
    pages.init_app(app)  # accessibility, cookies, contact, help
    for feature in features():
        feature.register(app)
