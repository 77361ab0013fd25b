"""Retention: crypto-shredding a record destroys its data key; the row and its neighbours stay."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ..access.keys import KeyAdmin
from ..audit.log import Event
from ..domain.labels import Classification
from .models import Record


def shred_record(session: Session, keys: KeyAdmin, record_id: str, reason: str) -> None:
    try:
        record = session.get(Record, uuid.UUID(record_id))
    except ValueError:
        record = None
    if record is None:
        raise LookupError(f"no record {record_id}")
    keys.shred(
        session,
        record.data_key_id,
        Event(
            action="record.shred",
            object_type="record",
            outcome="done",
            label=Classification.parse(record.classification),
            object_id=str(record.id),
            case_id=str(record.case_id),
            reason=reason,
        ),
    )
