"""Flask glue: the per-request database session, the kernel handle, blueprints and error pages."""

from __future__ import annotations

from flask import Flask, current_app, g

from ..platform import Platform


def platform() -> Platform:
    return current_app.extensions["shareplatform"]  # type: ignore[no-any-return]


def db_session():  # type: ignore[no-untyped-def]
    """The request's session; the request's work commits together or not at all."""
    if "db_session" not in g:
        g.db_session = platform().db.sessions()
    return g.db_session


def init_app(app: Flask) -> None:
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

    for register in _BLUEPRINTS:
        register(app)


def _register_views(app: Flask) -> None:
    from ..views import init_app as init_views

    init_views(app)


_BLUEPRINTS = [_register_views]
