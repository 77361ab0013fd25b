"""Helpers shared by the lifecycle services: facts, the case's records and people."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import case_ref
from ..casework import OS, case_facts, demand, may  # noqa: F401 (re-exported)
from ..context import Ctx
from ..crypto.sealed import Sealed
from ..domain.cases import RecordType
from ..domain.errors import InvalidValue
from ..domain.labels import Classification
from ..mappa.common import current_members, names, parse_id  # noqa: F401 (re-exported)
from ..records.models import Record
from ..records.services import record_facts
from ..records.visibility import record_filter


def done(ctx: Ctx, action: str, kind: str, case: Case, object_id: object, **detail: object) -> None:
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action=action,
            object_type=kind,
            outcome="done",
            label=OS,
            object_id=str(object_id),
            case_id=str(case.id),
            detail=detail,
        ),
    )


def write_own(
    ctx: Ctx,
    case: Case,
    kind: Kind,
    row: Sealed,
    plaintext: dict[str, str | None],
    action: str,
    object_id: str,
    detail: dict[str, object],
    label: Classification = OS,
) -> None:
    """Seal the user's own entry of `kind` on the case (decided and audited as its author)."""
    ctx.access.write(
        ctx.session,
        ctx.subject,
        row,
        plaintext,
        case_facts(ctx, case, kind, label, author=True),
        Event(
            action=action,
            object_type=kind,
            outcome="done",
            label=Classification.parse(label),
            object_id=object_id,
            case_id=str(case.id),
            detail=detail,
        ),
    )
    ctx.session.flush()


def case_record(
    ctx: Ctx, case: Case, record_id: object, types: tuple[RecordType, ...], what: str
) -> Record:
    """A record of one of `types` on this case that the user may read; InvalidValue otherwise."""
    try:
        rid = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        raise InvalidValue(what, str(record_id), why="choose a record on this case") from None
    record = ctx.session.get(Record, rid)
    allowed = {t.value for t in types}
    if (
        record is None
        or record.case_id != case.id
        or record.record_type not in allowed
        or not ctx.access.decide(
            ctx.session, ctx.subject, record_facts(ctx, case, record), Act.READ
        ).allowed
    ):
        kinds = " or ".join(t.title for t in types)
        raise InvalidValue(
            what, str(record_id), why=f"choose a {kinds} record on this case that you can read"
        )
    return record


def readable_records(ctx: Ctx, case: Case, types: tuple[RecordType, ...]) -> list[Record]:
    """Records of these types on the case that the user may read (filtered in SQL), newest first."""
    readable = record_filter(ctx, case_ref(case))
    return list(
        ctx.session.scalars(
            select(Record)
            .where(
                Record.case_id == case.id,
                Record.record_type.in_([t.value for t in types]),
                readable,
            )
            .order_by(Record.occurred_on.desc(), Record.created_at.desc())
        )
    )


def need(kind: str, value: str | None, why: str, limit: int = 20_000) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidValue(kind, value, why=why)
    if len(text) > limit:
        raise InvalidValue(kind, text[:20] + "...", why=f"must be {limit} characters or fewer")
    return text
