"""Retention: crypto-shredding a record destroys its data key; the row and its neighbours stay."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ..access.kernel import AccessLayer
from ..audit.log import Event
from ..crypto import keyring
from .models import Record


def shred_record(session: Session, access: AccessLayer, record_id: str, reason: str) -> None:
    try:
        record = session.get(Record, uuid.UUID(record_id))
    except ValueError:
        record = None
    if record is None:
        raise LookupError(f"no record {record_id}")
    keyring.shred(session, record.data_key_id)
    access.record(
        session,
        None,
        Event(
            "record.shred",
            "record",
            "done",
            record.classification,
            str(record.id),
            str(record.case_id),
            reason,
        ),
    )
