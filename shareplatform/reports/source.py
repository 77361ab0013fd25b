"""Where management information reads its figures.

SHAREPLATFORM_REPORTS_DATABASE_URL may name a standby (shareplatform/config.py): the figures'
queries then run there, in a session of their own for the request, so that heavy reporting does
not load the primary. Access decisions and the audit entries of a report stay on the request's
session (the primary). Without that setting the figures read the request's session, as
everything else does. A standby may lag the primary by the last moments of writes: the figures
are management information, not case work.
"""

from __future__ import annotations

from flask import Flask, g, has_app_context
from sqlalchemy.orm import Session

from ..context import Ctx
from ..web import platform


def figures(ctx: Ctx) -> Session:
    """The session the figures are read from: the reports database's, or the request's own."""
    if not has_app_context():  # services called outside a request (commands, tests)
        return ctx.session
    database = getattr(platform(), "reports_db", None)
    if database is None or database is platform().db:
        return ctx.session
    if "reports_session" not in g:
        g.reports_session = database.sessions()
    return g.reports_session


def close_at_teardown(app: Flask) -> None:
    """The reports session ends with the request; it only ever read."""

    @app.teardown_appcontext
    def _close_reports_session(_exc: BaseException | None) -> None:
        session = g.pop("reports_session", None)
        if session is not None:
            session.rollback()
            session.close()
