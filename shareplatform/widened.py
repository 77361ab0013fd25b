"""Stamps widened by later revisions: each table, the facts it gained, and the audit action that
records its one adoption. `flask db upgrade` adopts them right after migrating
(shareplatform/cli.py, `SystemWriter.adopt_widened` in shareplatform/access/system.py); until then
a row stamped the old way fails its check and is withheld, as a tampered row is."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .access.system import SystemWriter
from .lifecycle.release_models import HandoverTick, LicenceCondition
from .mappa.models import MeetingSupersession

WIDENED = (  # revision 0015
    ("licence.adopt", LicenceCondition, ("condition_type", "starts_on", "ends_on", "change")),
    ("handover.adopt", HandoverTick, ("task", "done", "by_role", "created_at")),
    ("mappa.meeting.adopt", MeetingSupersession, ("replacement_id",)),
)


def adopt_widened_stamps(session: Session, system: SystemWriter) -> dict[str, int]:
    """Each widening not yet adopted: how many rows it stamped, by table."""
    done: dict[str, int] = {}
    for action, model, added in WIDENED:
        stamped = system.adopt_widened(session, action, model, added)
        if stamped is not None:
            done[model.__tablename__] = stamped
    return done
