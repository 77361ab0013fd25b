"""`flask --app wsgi notifications sweep`: the daily job (cron) for expiring vetting and overdue
actions."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from ..audit.log import Event
from ..domain.labels import Classification

notifications_cli = AppGroup("notifications", help="The notification centre's daily sweep.")


@notifications_cli.command("sweep")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def sweep_command(today: object) -> None:
    """Notify vetting expiring within 30 days and actions now overdue (each once)."""
    from .services import sweep

    platform = current_app.extensions["shareplatform"]
    day = today.date() if today is not None else date.today()  # type: ignore[attr-defined]
    with platform.transaction() as session:
        done = sweep(session, platform.access, platform.indexer, day)
        platform.access.record(
            session,
            None,
            Event(
                action="notifications.sweep",
                object_type="notification",
                outcome="done",
                label=Classification.OFFICIAL,
                detail={"vetting": done.vetting, "overdue": done.overdue, "day": day.isoformat()},
            ),
        )
    click.echo(f"notified: {done.vetting} vetting, {done.overdue} overdue actions")
