"""ERG 22+ and PGF assessments shared with POMs (rec 7/17): per-document handling rules, an
append-only sharing log, and a policy check for the recipient at the moment of sharing, so a
policy change (e.g. a deny line for POMs) applies at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..access.facts import Facts, relation
from ..access.vocabulary import Act, Kind, record_kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import case_ref, get_case
from ..context import Ctx
from ..domain.agencies import Role
from ..domain.cases import RecordType
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification
from ..records.models import Record
from ..records.services import record_facts
from .common import OS, case_facts, current_members, demand, names, parse_id, write_own
from .models import AssessmentHandling, AssessmentShare
from .stages import SHAREABLE

DEFAULT_AUDIENCES = (Role.POM,)  # with no handling rule, an ERG/PGF may go to the case's POM


@dataclass(frozen=True)
class ShareView:
    record_id: uuid.UUID
    record_type: RecordType
    assessed_on: date
    version: int
    recipient: str
    shared_by: str
    shared_at: datetime


@dataclass(frozen=True)
class HandlingView:
    record_id: uuid.UUID
    audiences: list[Role]
    instructions: str
    set_by: str
    at: datetime


def _assessment(ctx: Ctx, record_id: uuid.UUID | str) -> tuple[Record, Case]:
    record = ctx.session.get(Record, parse_id(record_id, "assessment"))
    if record is None or RecordType(record.record_type) not in SHAREABLE:
        raise NotFound("assessment")
    try:
        case = get_case(ctx, record.case_id)
    except NotFound:
        raise NotFound("assessment") from None
    if not ctx.access.decide(
        ctx.session, ctx.subject, record_facts(ctx, case, record), Act.READ
    ).allowed:
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action="assessment.share",
                object_type="record",
                outcome="deny",
                label=Classification.parse(record.classification),
                object_id=str(record.id),
                case_id=str(case.id),
                reason="cannot read the assessment",
            ),
        )
        raise NotFound("assessment")
    return record, case


def set_handling(
    ctx: Ctx, record_id: uuid.UUID | str, audiences: list[str], instructions: str = ""
) -> AssessmentHandling:
    """Who may receive this document (roles), with instructions. The latest rule applies."""
    record, case = _assessment(ctx, record_id)
    event = Event(
        action="assessment.handling",
        object_type="assessment_share",
        outcome="done",
        label=OS,
        object_id=str(record.id),
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.ASSESSMENT_SHARE,
        act=Act.WRITE,
        event=event,
        message="Only the case team may set handling rules.",
    )
    roles = sorted({Role.parse(a) for a in audiences if str(a).strip()})
    if not roles:
        raise InvalidValue("audiences", "", why="choose who may receive the assessment")
    text = (instructions or "").strip()
    if len(text) > 4000:
        raise InvalidValue(
            "instructions", text[:20] + "...", why="must be 4000 characters or fewer"
        )
    row = AssessmentHandling(
        id=uuid.uuid4(),
        record_id=record.id,
        case_id=case.id,
        audiences=",".join(r.value for r in roles),
        set_by_id=ctx.subject.user_id,
        classification=OS,
        caveats="",
    )
    write_own(
        ctx,
        case,
        Kind.ASSESSMENT_SHARE,
        row,
        {"instructions": text or None},
        "assessment.handling",
        str(record.id),
        {"audiences": [r.value for r in roles]},
    )
    return row


def _audiences(ctx: Ctx, record: Record) -> tuple[Role, ...]:
    rule = ctx.session.scalar(
        select(AssessmentHandling)
        .where(AssessmentHandling.record_id == record.id)
        .order_by(AssessmentHandling.created_at.desc())
    )
    return tuple(Role(a) for a in rule.audiences.split(",")) if rule else DEFAULT_AUDIENCES


def _version(ctx: Ctx, record: Record) -> int:
    n, current = 1, record
    while current.supersedes_id is not None:
        prev = ctx.session.get(Record, current.supersedes_id)
        if prev is None:
            break
        n, current = n + 1, prev
    return n


def share_assessment(
    ctx: Ctx, record_id: uuid.UUID | str, recipient_id: uuid.UUID | str | None
) -> AssessmentShare:
    """Send this version of an ERG 22+ or PGF to a team member, under handling rule and policy."""
    from ..accounts.models import User

    record, case = _assessment(ctx, record_id)
    event = Event(
        action="assessment.share",
        object_type="assessment_share",
        outcome="done",
        label=Classification.parse(record.classification),
        object_id=str(record.id),
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.ASSESSMENT_SHARE,
        act=Act.WRITE,
        event=event,
        message="Only the case team may share assessments.",
    )
    if recipient_id in (None, ""):
        raise InvalidValue("recipient", None, why="choose who receives the assessment")
    try:
        rid = parse_id(recipient_id, "recipient")
    except NotFound:
        raise InvalidValue(
            "recipient", str(recipient_id), why="choose a member of the case team"
        ) from None
    user = ctx.session.get(User, rid)
    if user is None or user.disabled_at is not None or rid not in current_members(ctx, case):
        raise InvalidValue(
            "recipient", str(recipient_id), why="choose a current member of the case team"
        )
    role = Role.parse(user.role)
    allowed = _audiences(ctx, record)
    if role not in allowed:
        raise NotPermitted(
            f"The handling rule for this assessment allows only: "
            f"{', '.join(r.title for r in allowed)}."
        )
    recipient = ctx.access.subject(ctx.session, user, ctx.today)
    label = record.label
    theirs = Facts.on(
        record_kind(record.record_type),
        Classification.parse(record.classification),
        relation(recipient, case_ref(case)),
        orcon_foreign=label.orcon
        and record.originating_agency != recipient.agency.value
        and record.released_at is None,
    )
    verdict = ctx.access.decide(ctx.session, recipient, theirs, Act.READ)
    if not verdict.allowed:
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action="assessment.share",
                object_type="assessment_share",
                outcome="deny",
                label=Classification.parse(record.classification),
                object_id=str(record.id),
                case_id=str(case.id),
                reason=verdict.explanation,
                detail={"recipient": str(rid)},
            ),
        )
        raise NotPermitted(f"Access policy does not let {user.display_name} read this assessment.")
    row = AssessmentShare(
        id=uuid.uuid4(),
        case_id=case.id,
        record_id=record.id,
        version=_version(ctx, record),
        recipient_id=rid,
        shared_by_id=ctx.subject.user_id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="assessment.share",
            object_type="assessment_share",
            outcome="done",
            label=Classification.parse(record.classification),
            object_id=str(record.id),
            case_id=str(case.id),
            detail={"recipient": str(rid), "version": row.version, "share": str(row.id)},
        ),
    )
    return row


def sharing_log(ctx: Ctx, case_id: uuid.UUID | str) -> list[ShareView]:
    case = get_case(ctx, case_id)
    event = Event(
        action="assessment.sharing_log",
        object_type="assessment_share",
        outcome="allow",
        label=OS,
        object_id=str(case.id),
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.ASSESSMENT_SHARE,
        act=Act.READ,
        event=event,
        message="You cannot see this case's sharing log.",
    )
    rows = ctx.session.execute(
        select(AssessmentShare, Record.record_type, Record.occurred_on)
        .join(Record, Record.id == AssessmentShare.record_id)
        .where(AssessmentShare.case_id == case.id)
        .order_by(AssessmentShare.shared_at.desc())
    ).all()
    who = names(ctx, [s.recipient_id for s, _, _ in rows] + [s.shared_by_id for s, _, _ in rows])
    ctx.access.record(ctx.session, ctx.subject, event)
    return [
        ShareView(
            s.record_id,
            RecordType(t),
            on,
            s.version,
            who.get(s.recipient_id, ""),
            who.get(s.shared_by_id, ""),
            s.shared_at,
        )
        for s, t, on in rows
    ]


def handling_rules(ctx: Ctx, case: Case) -> dict[uuid.UUID, HandlingView]:
    """The current handling rule of each assessment on the case (instructions via the kernel)."""
    rows = list(
        ctx.session.scalars(
            select(AssessmentHandling)
            .where(AssessmentHandling.case_id == case.id)
            .order_by(AssessmentHandling.created_at)
        )
    )
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        rows,
        lambda r: case_facts(
            ctx, case, Kind.ASSESSMENT_SHARE, Classification.parse(r.classification)
        ),
        Event(
            action="assessment.handling_view",
            object_type="assessment_share",
            outcome="allow",
            label=OS,
            object_id=str(case.id),
            case_id=str(case.id),
        ),
    )
    who = names(ctx, [r.set_by_id for r in rows])
    out = {}
    for row, plain in opened.rows:
        r: AssessmentHandling = row  # type: ignore[assignment]
        out[r.record_id] = HandlingView(
            r.record_id,
            [Role(a) for a in r.audiences.split(",")],
            plain.get("instructions") or "",
            who.get(r.set_by_id, ""),
            r.created_at,
        )
    return out
