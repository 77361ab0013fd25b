"""Use cases for records: posting, correcting (supersession), the case timeline, one record."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

from blinker import signal
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from ..access.facts import Facts, Relation, relation
from ..access.vocabulary import Act, Kind, record_kind
from ..audit.log import Event
from ..audit.models import AuditEntry, AuditView
from ..cases.models import Case
from ..cases.services import case_ref, get_case
from ..casework import originators
from ..context import Ctx
from ..domain.agencies import Agency
from ..domain.cases import RecordType
from ..domain.errors import Conflict, InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification, Label, highest
from ..domain.rules import assessment_current, lowers, needs_home_visit_assessment
from .models import Record, RecordAttendee
from .visibility import record_filter

MAX_BODY = 20_000
MAX_TITLE = 200
_RECORD_TYPES = {t.value: t for t in RecordType}
CONTACT_TYPES = tuple(t for t in RecordType if t.value.startswith("CONTACT_"))


@dataclass(frozen=True)
class RecordView:
    id: uuid.UUID
    case_id: uuid.UUID
    record_type: RecordType
    agency: str
    author: str
    occurred_on: date
    created_at: datetime
    label: Label
    title: str
    body: str
    attendees: list[str]
    supersedes_id: uuid.UUID | None
    superseded_by: uuid.UUID | None
    correction_reason: str | None

    @property
    def classification(self) -> str:
        return self.label.classification.marking


@dataclass(frozen=True)
class Notice:
    """A withheld record the user may know exists: no label, title, author or content."""

    occurred_on: date
    text: str = "Further information is held. Speak to your manager if you need it."
    integrity_failure: bool = False


INTEGRITY_NOTICE = (
    "This item failed its integrity check, so it is withheld. The failure has been recorded and "
    "the service team alerted."
)


@dataclass
class Timeline:
    items: list[RecordView | Notice] = field(default_factory=list)
    highest: Classification = Classification.OFFICIAL
    total_visible: int = 0


@dataclass(frozen=True)
class NewRecord:
    record_type: str
    occurred_on: date
    classification: str
    caveats: list[str]
    title: str
    body: str
    joint_agencies: list[str] = field(default_factory=list)


def record_facts(ctx: Ctx, case: Case, record: Record, rel: Relation | None = None) -> Facts:
    label = record.label
    return Facts.on(
        record_kind(record.record_type),
        Classification.parse(record.classification),
        rel if rel is not None else relation(ctx.subject, case_ref(case)),
        author=record.author_id == ctx.subject.user_id,
        orcon_foreign=label.orcon
        and record.originating_agency != ctx.subject.agency.value
        and record.released_at is None,
    )


def facts_by_class(ctx: Ctx, case: Case, rel: Relation) -> Callable[[Record], Facts]:
    """`record_facts` for many records of one case: records differ only in the few columns that
    make up the key below, so each distinct class is built once."""
    me, agency = ctx.subject.user_id, ctx.subject.agency.value
    built: dict[tuple[object, ...], Facts] = {}

    def facts(record: Record) -> Facts:
        key = (
            record.record_type,
            record.classification,
            record.caveats,
            record.author_id == me,
            record.originating_agency == agency,
            record.released_at is None,
        )
        found = built.get(key)
        if found is None:
            found = built[key] = record_facts(ctx, case, record, rel)
        return found

    return facts


def writable_labels(
    ctx: Ctx, case: Case, record_type: str = "CONTACT_OFFICE"
) -> list[Classification]:
    """Labels this user may write on this case.

    Never above their clearance (domain rule) or policy.
    """
    rel = relation(ctx.subject, case_ref(case))
    return [
        c
        for c in Classification
        if ctx.access.decide(
            ctx.session,
            ctx.subject,
            Facts.on(record_kind(record_type), Classification.parse(c.marking), rel, author=True),
            Act.WRITE,
        ).allowed
    ]


def can_write_any(ctx: Ctx, case: Case) -> bool:
    return bool(writable_labels(ctx, case))


def validate_new(data: NewRecord, today: date) -> tuple[RecordType, Label, list[Agency]]:
    """Domain validation of a new record; raises InvalidValue naming the field."""
    record_type = RecordType.parse(data.record_type)
    if record_type is RecordType.SANITISED_ACTION:
        raise InvalidValue(
            "record type", data.record_type, why="sanitised actions are released by a chair"
        )
    label = Label.of(data.classification, data.caveats)
    record_type.check_label(label.classification)
    if data.occurred_on > today:
        raise InvalidValue(
            "date", data.occurred_on.isoformat(), why="the date cannot be in the future"
        )
    if not data.title.strip():
        raise InvalidValue("title", data.title, why="enter a short title")
    if len(data.title) > MAX_TITLE:
        raise InvalidValue(
            "title", data.title[:20] + "...", why=f"title must be {MAX_TITLE} characters or fewer"
        )
    if not data.body.strip():
        raise InvalidValue("details", "", why="enter the details of the record")
    if len(data.body) > MAX_BODY:
        raise InvalidValue("details", "", why=f"details must be {MAX_BODY} characters or fewer")
    joint = [Agency.parse(a) for a in data.joint_agencies]
    if record_type is RecordType.CONTACT_JOINT_VISIT and not joint:
        raise InvalidValue(
            "attending agencies", "", why="a joint visit needs the other agency that attended"
        )
    return record_type, label, joint


def post_record(
    ctx: Ctx,
    case_id: uuid.UUID | str,
    data: NewRecord,
    supersedes: Record | None = None,
    reason: str | None = None,
) -> Record:
    """Write one record on a case. A joint visit is one record with both agencies as attendees."""
    case = get_case(ctx, case_id)
    record_type, label, joint = validate_new(data, ctx.today)
    agencies = [ctx.subject.agency, *[a for a in joint if a is not ctx.subject.agency]]
    if needs_home_visit_assessment(record_type, agencies):
        _require_home_visit_assessment(ctx, case, data.occurred_on)
    record = Record(
        id=uuid.uuid4(),
        case_id=case.id,
        record_type=record_type.value,
        originating_agency=ctx.subject.agency.value,
        author_id=ctx.subject.user_id,
        occurred_on=data.occurred_on,
        classification=label.classification.marking,
        caveats=label.caveat_text(),
        supersedes_id=supersedes.id if supersedes else None,
    )
    facts = Facts.on(
        record_kind(record_type.value),
        Classification.parse(label.classification.marking),
        relation(ctx.subject, case_ref(case)),
        author=True,
    )
    event = Event(
        action="record.create" if supersedes is None else "record.correct",
        object_type="record",
        outcome="done",
        label=Classification.parse(label.classification.marking),
        object_id=str(record.id),
        case_id=str(case.id),
        detail={"type": record_type.value, "supersedes": str(supersedes.id) if supersedes else ""},
    )
    ctx.access.write(
        ctx.session,
        ctx.subject,
        record,
        {"title": data.title.strip(), "body": data.body, "correction_reason": reason},
        facts,
        event,
    )
    ctx.session.flush()  # the record row first: attendees refer to it
    ctx.session.execute(  # one statement for every attendee, no unit-of-work pass
        insert(cast(Table, RecordAttendee.__table__)),
        [
            {
                "record_id": record.id,
                "agency": agency.value,
                "user_id": ctx.subject.user_id if agency is ctx.subject.agency else None,
            }
            for agency in agencies
        ],
    )
    # the notification centre listens (shareplatform/notifications/services.py), same transaction
    signal("shareplatform.record-posted").send(ctx, case=case, record=record, supersedes=supersedes)
    return record


def _require_home_visit_assessment(ctx: Ctx, case: Case, visit_on: date) -> None:
    """Rec 20: a police home visit needs a recent home-visit risk assessment for this person."""
    same_person = select(Case.id).where(Case.nominal_id == case.nominal_id)
    readable = record_filter(ctx, case_ref(case), Act.READ)
    latest = ctx.session.scalar(
        select(func.max(Record.occurred_on)).where(
            Record.case_id.in_(same_person),
            Record.record_type == RecordType.ASSESSMENT_HOME_VISIT_RISK.value,
            Record.occurred_on <= visit_on,
            readable,
        )
    )
    if not assessment_current(visit_on, latest, ctx.settings):
        days = ctx.settings.home_visit_assessment_days
        raise InvalidValue(
            "type",
            "home visit",
            why=(
                "a home visit with police needs a home-visit risk assessment for this person "
                "completed in the "
                f"{days} days before the visit: record the assessment first"
            ),
        )


def correct_record(ctx: Ctx, record_id: uuid.UUID | str, data: NewRecord, reason: str) -> Record:
    """A correction is a new record superseding the old, with a reason. The old stays readable."""
    if not reason or not reason.strip():
        raise InvalidValue(
            "reason for correction", reason, why="say why the record is being corrected"
        )
    old = _get_record(ctx, record_id)
    case = ctx.session.get(Case, old.case_id)
    assert case is not None
    _open_record(ctx, case, old)  # must be able to read what is being corrected
    already = ctx.session.scalar(select(Record.id).where(Record.supersedes_id == old.id))
    if already is not None:
        raise Conflict(
            "This record has already been corrected: correct the latest version instead."
        )
    if lowers(old.label, Label.of(data.classification, data.caveats)):
        _check_downgrade(ctx, case, old, data, reason.strip())
    return post_record(ctx, case.id, data, supersedes=old, reason=reason.strip())


def _check_downgrade(ctx: Ctx, case: Case, old: Record, data: NewRecord, reason: str) -> None:
    """A correction at a lower label is a downgrade: the originator's alone (docs/domain.md,
    "Labels"), audited with its reason whether refused or done."""
    new = Label.of(data.classification, data.caveats)
    mine = originators(ctx.session, old, new, lambda r: r.author_id) == {ctx.subject.user_id}
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="record.downgrade",
            object_type="record",
            outcome="allow" if mine else "deny",
            label=Classification.parse(old.classification),
            object_id=str(old.id),
            case_id=str(case.id),
            reason=reason if mine else "only the originator may downgrade",
            detail={
                "from": old.label.canonical(),
                "to": new.canonical(),
                "reason": reason,
            },
        ),
    )
    if not mine:
        raise NotPermitted(
            "Only the originator of this record may correct it to a lower label or drop a "
            "handling caveat."
        )


def case_of_record(ctx: Ctx, record_id: uuid.UUID | str) -> tuple[uuid.UUID, uuid.UUID]:
    """(record id, case id) of a record whose stamp holds, opening nothing; NotFound otherwise.
    The case's own check (get_case) decides what the user may do there."""
    record = _get_record(ctx, record_id)
    if not record.facts_intact:
        raise NotFound("record")
    return record.id, record.case_id


def _get_record(ctx: Ctx, record_id: uuid.UUID | str) -> Record:
    try:
        rid = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound("record") from None
    record = ctx.session.get(Record, rid)
    if record is None:
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action="record.read",
                object_type="record",
                outcome="deny",
                label=Classification.OFFICIAL,
                object_id=str(rid),
                case_id="",
                reason="no such record",
            ),
        )
        raise NotFound("record")
    return record


def _open_record(ctx: Ctx, case: Case, record: Record) -> dict[str, str | None]:
    return ctx.access.read_one(
        ctx.session,
        ctx.subject,
        record,
        record_facts(ctx, case, record),
        Event(
            action="record.read",
            object_type="record",
            outcome="allow",
            label=Classification.parse(record.classification),
            object_id=str(record.id),
            case_id=str(case.id),
        ),
    )


def timeline(
    ctx: Ctx,
    case_id: uuid.UUID | str | Case,
    *,
    record_type: str | None = None,
    agency: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 500,
    offset: int = 0,
) -> Timeline:
    """One timeline of every agency's records on a case that I may see.

    Newest first, filtered in SQL.

    Given a Case already opened in this request (case_view), the case decision is not repeated:
    the records are still filtered by the same need-to-know relation and audited.
    """
    case = case_id if isinstance(case_id, Case) else get_case(ctx, case_id)
    ref = case_ref(case)
    stmt = select(Record).where(
        Record.case_id == case.id, record_filter(ctx, ref, Act.READ, Act.NOTICE)
    )
    if record_type:
        stmt = stmt.where(Record.record_type == RecordType.parse(record_type).value)
    if agency:
        stmt = stmt.where(Record.originating_agency == Agency.parse(agency).value)
    if date_from:
        stmt = stmt.where(Record.occurred_on >= date_from)
    if date_to:
        stmt = stmt.where(Record.occurred_on <= date_to)
    stmt = (
        stmt.order_by(Record.occurred_on.desc(), Record.created_at.desc())
        .limit(limit)
        .offset(offset)
    )
    event = Event(
        action="case.timeline",
        object_type="record",
        outcome="allow",
        label=Classification.OFFICIAL,
        object_id=str(case.id),
        case_id=str(case.id),
        detail={"filters": {"type": record_type, "agency": agency}},
    )
    rows, opened = ctx.access.read_selected(
        ctx.session,
        ctx.subject,
        stmt,
        facts_by_class(ctx, case, relation(ctx.subject, ref)),  # type: ignore[arg-type]
        event,
    )
    views = _views(ctx, opened.rows)
    notices = {r.id: Notice(r.occurred_on) for r in opened.notices}  # type: ignore[attr-defined]
    for r in opened.failed:  # the rest of the timeline stands; this one item is marked
        notices[r.id] = Notice(r.occurred_on, INTEGRITY_NOTICE, integrity_failure=True)  # type: ignore[attr-defined]
    items: list[RecordView | Notice] = []
    for row in rows:
        if row.id in views:
            items.append(views[row.id])
        elif row.id in notices:
            items.append(notices[row.id])
    return Timeline(items, opened.highest, len(views))


def _views(ctx: Ctx, opened: list) -> dict[uuid.UUID, RecordView]:
    from ..accounts.models import User

    ids = [r.id for r, _ in opened]
    if not ids:
        return {}
    authors = dict(
        ctx.session.execute(
            select(User.id, User.display_name).where(User.id.in_({r.author_id for r, _ in opened}))
        ).all()
    )
    attendees: dict[uuid.UUID, list[str]] = {}
    superseded_by: dict[uuid.UUID, uuid.UUID] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        for rid, agency in ctx.session.execute(
            select(RecordAttendee.record_id, RecordAttendee.agency).where(
                RecordAttendee.record_id.in_(part)
            )
        ):
            attendees.setdefault(rid, []).append(agency)
        for new_id, old_id in ctx.session.execute(
            select(Record.id, Record.supersedes_id).where(Record.supersedes_id.in_(part))
        ):
            # selected by supersedes_id IN (...), so old_id is never None
            superseded_by[old_id] = new_id  # type: ignore[index]
    readable = _readable_of(ctx, {r.supersedes_id for r, _ in opened} | set(superseded_by.values()))
    return {
        r.id: RecordView(
            r.id,
            r.case_id,
            _RECORD_TYPES[r.record_type],
            r.originating_agency,
            authors.get(r.author_id, "Unknown"),
            r.occurred_on,
            r.created_at,
            r.label,
            plain["title"] or "",
            plain["body"] or "",
            sorted(attendees.get(r.id, [])),
            r.supersedes_id if r.supersedes_id in readable else None,
            superseded_by.get(r.id) if superseded_by.get(r.id) in readable else None,
            plain.get("correction_reason"),
        )
        for r, plain in opened
    }


def _readable_of(ctx: Ctx, ids: set[uuid.UUID | None]) -> set[uuid.UUID]:
    """The versions, among `ids`, the user may read: a view names no other (withheld mode: never
    the id of a SECRET original to a reader of its OFFICIAL-SENSITIVE correction)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return set()
    rows = list(ctx.session.scalars(select(Record).where(Record.id.in_(wanted))))
    cases = {
        c.id: c
        for c in ctx.session.scalars(select(Case).where(Case.id.in_({r.case_id for r in rows})))
    }
    return {
        r.id
        for r in rows
        if ctx.access.decide(
            ctx.session, ctx.subject, record_facts(ctx, cases[r.case_id], r), Act.READ
        ).allowed
    }


def record_page(ctx: Ctx, record_id: uuid.UUID | str) -> tuple[RecordView, list[RecordView]]:
    """One record and its supersession history (older and newer versions the user may read)."""
    record = _get_record(ctx, record_id)
    case = ctx.session.get(Case, record.case_id)
    assert case is not None
    try:
        get_case(ctx, case.id)
    except NotFound:
        raise NotFound("record") from None  # the same answer as for a record that does not exist
    plain = _open_record(ctx, case, record)
    view = _views(ctx, [(record, plain)])[record.id]
    chain = _supersession_chain(ctx.session, record)
    others = [r for r in chain if r.id != record.id]
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        others,
        lambda r: record_facts(ctx, case, r),  # type: ignore[arg-type]
        Event(
            action="record.history",
            object_type="record",
            outcome="allow",
            label=Classification.parse(record.classification),
            object_id=str(record.id),
            case_id=str(case.id),
        ),
    )
    history = _views(ctx, opened.rows)
    ordered = [history.get(r.id, view) for r in chain if r.id in history or r.id == record.id]
    return view, ordered


def _supersession_chain(session: Session, record: Record) -> list[Record]:
    """Every version of a record, oldest first."""
    chain = [record]
    current = record
    while current.supersedes_id is not None:
        prev = session.get(Record, current.supersedes_id)
        if prev is None:
            break
        chain.insert(0, prev)
        current = prev
    current = record
    while True:
        nxt = session.scalar(select(Record).where(Record.supersedes_id == current.id))
        if nxt is None:
            break
        chain.append(nxt)
        current = nxt
    return chain


@dataclass(frozen=True)
class Viewing:
    at: datetime
    who: str
    action: str
    outcome: str


def who_has_seen(ctx: Ctx, record_id: uuid.UUID | str) -> list[Viewing]:
    """For managers: who has read this record, from the audit log (single reads and listings)."""
    record = _get_record(ctx, record_id)
    case = ctx.session.get(Case, record.case_id)
    assert case is not None
    ctx.access.require(
        ctx.session,
        ctx.subject,
        Facts.on(
            Kind.RECORD_AUDIT,
            Classification.parse(record.classification),
            relation(ctx.subject, case_ref(case)),
        ),
        Act.READ,
        Event(
            action="record.audit_view",
            object_type="record",
            outcome="allow",
            label=Classification.parse(record.classification),
            object_id=str(record.id),
            case_id=str(case.id),
        ),
    )
    rid = str(record.id)
    # every allowed read that showed it (indexed, written with each entry), and refused attempts
    # to read it alone: both complete however long the case's log grows
    columns = (AuditEntry.seq, AuditEntry.at, AuditEntry.actor, AuditEntry.action)
    shown = select(*columns).join(AuditView, AuditView.seq == AuditEntry.seq)
    refused = select(*columns).where(
        AuditEntry.object_id == rid,
        AuditEntry.action == "record.read",
        AuditEntry.outcome != "allow",
    )
    rows = [(*r, "allow") for r in ctx.session.execute(shown.where(AuditView.object_id == rid))]
    rows += [(*r, "deny") for r in ctx.session.execute(refused)]
    rows.sort(key=lambda r: r[0], reverse=True)  # newest first
    return [Viewing(at, actor, action, outcome) for _, at, actor, action, outcome in rows]


def count_visible(ctx: Ctx, case_id: uuid.UUID | str) -> int:
    case = get_case(ctx, case_id)
    readable = record_filter(ctx, case_ref(case), Act.READ)
    return (
        ctx.session.scalar(
            select(func.count()).select_from(Record).where(Record.case_id == case.id, readable)
        )
        or 0
    )


__all__ = [
    "NewRecord",
    "Notice",
    "RecordView",
    "Timeline",
    "correct_record",
    "count_visible",
    "highest",
    "post_record",
    "record_page",
    "timeline",
    "who_has_seen",
    "writable_labels",
]
