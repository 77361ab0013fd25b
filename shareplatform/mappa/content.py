"""The canonical content of each signed or hashed entry, built the same way on write and on read."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from ..domain.labels import Label
from .models import Breakout, MappaAction, MappaDecision
from .signing import stamp

Plain = Mapping[str, str | None]


def _s(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def decision_content(
    row: MappaDecision,
    plain: Plain,
    disclosure_ids: Iterable[uuid.UUID],
    actions: Iterable[tuple[uuid.UUID, bytes]],
) -> dict[str, object]:
    return {
        "v": 1,
        "type": "mappa.decision",
        "id": str(row.id),
        "case_id": str(row.case_id),
        "meeting_id": str(row.meeting_id),
        "label": Label.of(row.classification, row.caveats).canonical(),
        "decision": plain.get("decision"),
        "rationale": plain.get("rationale"),
        "options": plain.get("options"),
        "level": row.level,
        "level_rationale": plain.get("level_rationale"),
        "decided_by": str(row.decided_by_id),
        "agreed_by": _s(row.agreed_by_id),
        "supersedes": _s(row.supersedes_id),
        "correction_reason": plain.get("correction_reason"),
        "signer": {
            "user_id": str(row.signed_by_id),
            "username": row.signer_name,
            "role": row.signer_role,
        },
        "created_at": stamp(row.created_at),
        "disclosures": sorted(str(d) for d in disclosure_ids),
        "actions": [{"id": str(i), "hash": h.hex()} for i, h in actions],
    }


def action_content(row: MappaAction, plain: Plain) -> dict[str, object]:
    return {
        "v": 1,
        "type": "mappa.action",
        "id": str(row.id),
        "decision_id": str(row.decision_id),
        "case_id": str(row.case_id),
        "position": row.position,
        "owner_id": str(row.owner_id),
        "owner_agency": row.owner_agency,
        "due_on": stamp(row.due_on),
        "created_at": stamp(row.created_at),
        "label": Label.of(row.classification, row.caveats).canonical(),
        "description": plain.get("description"),
    }


def breakout_content(row: Breakout, plain: Plain) -> dict[str, object]:
    return {
        "v": 1,
        "type": "mappa.breakout",
        "id": str(row.id),
        "action_id": str(row.action_id),
        "case_id": str(row.case_id),
        "label": Label.of(row.classification, row.caveats).canonical(),
        "text": plain.get("text"),
        "consent": plain.get("consent"),
        "orcon_consent": bool(row.orcon_consent),
        "approved_by": str(row.approved_by_id),
        "approved_at": stamp(row.approved_at),
    }
