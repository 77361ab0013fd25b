"""Meetings (open and closed parts) and disclosures."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..access.facts import Facts, relation
from ..access.kernel import Opened
from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import case_ref, get_case
from ..context import Ctx
from ..crypto.sealed import Sealed
from ..db import utcnow
from ..domain.agencies import Agency, Role
from ..domain.errors import InvalidValue, NotFound
from ..domain.labels import Classification, Label
from ..domain.vetting import Vetting, VettingStatus
from .common import (
    OS,
    SECRET,
    active_user,
    case_event,
    case_facts,
    check_chair,
    conceal,
    demand_write,
    may,
    names,
    not_future,
    parse_id,
    seal_new,
)
from .models import (
    Disclosure,
    MappaMeeting,
    MeetingAttendee,
    MeetingClosedPart,
    MeetingSupersession,
)
from .vocab import (
    MAX_SHORT,
    Attendee,
    MeetingType,
    NewDisclosure,
    NewMeeting,
    Originator,
    need_text,
    optional_text,
)

NOT_CORRIDOR = (
    "Only senior managers in the sterile corridor who sit on this case's MAPPA panel may {}."
)
SUPERSESSION_FORGED = (
    "a correction or withdrawal recorded for this meeting fails its integrity check: whether "
    "this record still stands cannot be shown"
)


@dataclass(frozen=True)
class AttendeeView:
    agency: str
    role: str
    name: str
    closed_part: bool
    user_id: uuid.UUID | None = None


@dataclass
class MeetingView:
    id: uuid.UUID
    case_id: uuid.UUID
    meeting_type: MeetingType
    held_on: date
    chair: str
    co_chair: str
    next_review: date | None
    open_minutes: str
    attendees: list[AttendeeView]
    closed_minutes: str | None = None  # None: none recorded, or not the reader's to see
    can_read_closed: bool = False
    decisions: list[uuid.UUID] = field(default_factory=list)
    superseded_by: uuid.UUID | None = None  # the correcting meeting
    withdrawn: bool = False
    superseded_reason: str = ""
    corrects: uuid.UUID | None = None  # the meeting this one corrects
    chair_id: uuid.UUID | None = None
    co_chair_id: uuid.UUID | None = None
    integrity: str = ""  # a correction or withdrawal naming this meeting failed its check

    @property
    def superseded(self) -> bool:
        return self.withdrawn or self.superseded_by is not None


@dataclass(frozen=True)
class DisclosureView:
    id: uuid.UUID
    case_id: uuid.UUID
    meeting_id: uuid.UUID | None
    originator: Originator
    originator_detail: str
    reference: str
    received_by: str
    received_at: datetime
    label: Label
    handling: str
    summary: str

    @property
    def originator_title(self) -> str:
        return self.originator_detail or self.originator.title


# -- meetings --------------------------------------------------------------------------------------
def record_meeting(ctx: Ctx, case_id: uuid.UUID | str, data: NewMeeting) -> MappaMeeting:
    """A meeting with its open part (OFFICIAL-SENSITIVE) and optionally its closed part (SECRET)."""
    case = get_case(ctx, case_id)
    event = case_event(case, "mappa.meeting.record", OS)
    demand_write(
        ctx,
        case,
        Kind.MEETING_OPEN,
        OS,
        event,
        "Only the chairs, panel managers and the MAPPA administrator on this case's panel "
        "may record meetings.",
    )
    closed = optional_text("closed-part minutes", data.closed_minutes)
    if closed:
        _demand_closed(ctx, case, event)
    mtype = MeetingType.parse(data.meeting_type)
    held_on = not_future("meeting date", data.held_on, ctx.today)
    level3 = mtype is MeetingType.MAPPA_L3
    chair = active_user(ctx, data.chair_id, "chair")
    check_chair(ctx, case, chair, "chair", Role.HONSU if level3 else None)
    co_chair = None
    if data.co_chair_id or level3:
        co_chair = active_user(ctx, data.co_chair_id, "co-chair")
        check_chair(ctx, case, co_chair, "co-chair", Role.LRO if level3 else None)
        if co_chair.id == chair.id:
            raise InvalidValue(
                "co-chair", co_chair.display_name, why="the co-chair cannot also be the chair"
            )
    if data.next_review is not None and data.next_review <= held_on:
        raise InvalidValue(
            "next review date", data.next_review.isoformat(), why="must be after the meeting"
        )
    minutes = need_text(
        "open-part minutes", data.open_minutes, "enter the minutes of the open part"
    )
    attendees = [_attendee(ctx, a) for a in data.attendees]
    if not attendees:
        raise InvalidValue("attendees", "", why="list who attended, by agency and role")
    if any(a["closed_part"] for a in attendees):
        _check_closed_attendance(ctx, case, data.attendees)

    meeting = MappaMeeting(
        id=uuid.uuid4(),
        case_id=case.id,
        meeting_type=mtype.value,
        held_on=held_on,
        chair_id=chair.id,
        co_chair_id=co_chair.id if co_chair else None,
        recorded_by_id=ctx.subject.user_id,
        next_review=data.next_review,
        created_at=utcnow(),
        classification=OS,
        caveats="",
    )
    seal_new(
        ctx,
        case,
        Kind.MEETING_OPEN,
        meeting,
        {"open_minutes": minutes},
        case_event(case, "mappa.meeting.record", OS, meeting.id, detail={"type": mtype.value}),
    )
    ctx.session.flush()
    for a in attendees:
        ctx.session.add(MeetingAttendee(meeting_id=meeting.id, **a))
    if closed:
        _write_closed(ctx, case, meeting, closed)
    ctx.session.flush()
    return meeting


def record_closed_part(ctx: Ctx, meeting_id: uuid.UUID | str, minutes: str) -> MeetingClosedPart:
    """Add the SECRET closed part to a meeting that has none yet (the log is append-only)."""
    meeting, case = _meeting_and_case(ctx, meeting_id)
    event = case_event(case, "mappa.meeting.closed", SECRET, meeting.id)
    _demand_closed(ctx, case, event)
    text = need_text("closed-part minutes", minutes, "enter the minutes of the closed part")
    exists = ctx.session.scalar(
        select(MeetingClosedPart.id).where(MeetingClosedPart.meeting_id == meeting.id)
    )
    if exists is not None:
        raise InvalidValue(
            "closed-part minutes", "", why="this meeting's closed part is already recorded"
        )
    part = _write_closed(ctx, case, meeting, text)
    ctx.session.flush()
    return part


def _demand_closed(ctx: Ctx, case: Case, event: Event) -> None:
    message = NOT_CORRIDOR.format("record the closed part")
    demand_write(ctx, case, Kind.MEETING_CLOSED, SECRET, event, message)


def _write_closed(ctx: Ctx, case: Case, meeting: MappaMeeting, text: str) -> MeetingClosedPart:
    part = MeetingClosedPart(
        id=uuid.uuid4(),
        meeting_id=meeting.id,
        recorded_by_id=ctx.subject.user_id,
        created_at=utcnow(),
        classification=SECRET,
        caveats="",
    )
    seal_new(
        ctx,
        case,
        Kind.MEETING_CLOSED,
        part,
        {"minutes": text},
        case_event(case, "mappa.meeting.closed", SECRET, meeting.id),
    )
    return part


CLOSED_ATTENDANCE = "closed-part attendance"


def _check_closed_attendance(ctx: Ctx, case: Case, attendees: list[Attendee]) -> None:
    """Refuse to record anyone in the closed part (SECRET) who could not read it: the access layer
    decides for that person as it would for them. Only someone who may record the closed part
    learns why (their vetting, role or panel seat); anyone else is told only that they may not."""
    if not may(ctx, case, kind=Kind.MEETING_CLOSED, act=Act.WRITE, label=SECRET):
        raise InvalidValue(
            CLOSED_ATTENDANCE,
            "",
            why="only senior managers in the sterile corridor who sit on this case's MAPPA panel "
            "may record who attended the closed part",
        )
    for a in attendees:
        if a.closed_part:
            why = _closed_part_bar(ctx, case, a)
            if why:
                raise InvalidValue(CLOSED_ATTENDANCE, a.name or "", why=why)


def _closed_part_bar(ctx: Ctx, case: Case, a: Attendee) -> str:
    """Why this person may not sit in the closed part, in plain English ("" when they may)."""
    role = Role.parse(a.role)
    if a.user_id is None:
        who = a.name or role.title
        if not role.in_corridor:
            return f"{who} is a {role.title}, who is not in the sterile corridor"
        return f"choose {who} from the people on the case, so that their vetting can be checked"
    user = active_user(ctx, a.user_id, "attendee")
    who = user.display_name
    subject = ctx.access.subject(ctx.session, user.id, ctx.today)
    facts = Facts.on(Kind.MEETING_CLOSED, SECRET, relation(subject, case_ref(case)))
    if ctx.access.decide(ctx.session, subject, facts, Act.READ).allowed:
        return ""
    vetting = VettingStatus(Vetting.parse(user.vetting), user.vetting_expires)
    if vetting.expired(ctx.today):
        return f"{who}'s vetting has expired, and the closed part is SECRET"
    cleared = vetting.clearance(ctx.today)
    if cleared is None or cleared < SECRET:
        return (
            f"{who} is not cleared for SECRET (the closed part needs SC or DV vetting; "
            f"they hold {vetting.level.value})"
        )
    own_role = Role.parse(user.role)
    if not own_role.in_corridor:
        return f"{who} is a {own_role.title}, who is not in the sterile corridor"
    return f"{who} does not sit on this case's MAPPA panel, and the closed part is for the panel"


def _attendee(ctx: Ctx, a: Attendee) -> dict[str, object]:
    agency = Agency.parse(a.agency)
    role = Role.parse(a.role)
    name = optional_text("attendee name", a.name, 120)
    user_id = a.user_id
    if user_id is not None:
        user = active_user(ctx, user_id, "attendee")
        name = name or user.display_name
    return {
        "agency": agency.value,
        "role": role.value,
        "name": name,
        "user_id": user_id,
        "closed_part": bool(a.closed_part),
    }


def _meeting_and_case(ctx: Ctx, meeting_id: uuid.UUID | str) -> tuple[MappaMeeting, Case]:
    mid = parse_id(meeting_id, "meeting")
    meeting = ctx.session.get(MappaMeeting, mid)
    if meeting is None:
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action="mappa.meeting.read",
                object_type="meeting",
                outcome="deny",
                label=Classification.OFFICIAL,
                object_id=str(mid),
                case_id="",
                reason="no such meeting",
            ),
        )
        raise NotFound("meeting")
    return meeting, get_case(ctx, meeting.case_id)


def meeting_view(ctx: Ctx, meeting_id: uuid.UUID | str) -> MeetingView:
    meeting, case = _readable_meeting(ctx, meeting_id)
    return _views(ctx, case, [meeting], with_closed=True)[0]


def _readable_meeting(ctx: Ctx, meeting_id: uuid.UUID | str) -> tuple[MappaMeeting, Case]:
    """The meeting, when the reader may see it; otherwise the answer for an unknown id."""
    meeting, case = _meeting_and_case(ctx, meeting_id)
    if not _readable(ctx, case):
        denied = case_event(
            case,
            "mappa.meeting.read",
            OS,
            meeting.id,
            outcome="deny",
            reason="no need to know",
        )
        ctx.access.record(ctx.session, ctx.subject, denied)
        raise NotFound("meeting")
    return meeting, case


# -- corrections and withdrawals: the original stays, marked superseded ---------------------------
def correct_meeting(
    ctx: Ctx, meeting_id: uuid.UUID | str, data: NewMeeting, reason: str
) -> MappaMeeting:
    """Record a corrected meeting that supersedes this one, with the reason. Nothing is changed in
    place: the original stays readable, marked as superseded by the correction."""
    _row, new = _supersede(
        ctx, meeting_id, "correct", reason, lambda c: record_meeting(ctx, c.id, data), whole=True
    )
    assert new is not None
    return new


def withdraw_meeting(ctx: Ctx, meeting_id: uuid.UUID | str, reason: str) -> MeetingSupersession:
    """Withdraw a meeting recorded in error, with the reason; the record stays, marked withdrawn."""
    row, _none = _supersede(ctx, meeting_id, "withdraw", reason, lambda _case: None)
    return row


def may_supersede(ctx: Ctx, case: Case) -> bool:
    """May the user withdraw the case's meetings (and, with `may_correct`, correct them)?"""
    return may(ctx, case, kind=Kind.MEETING_OPEN, act=Act.WRITE, label=OS)


def may_correct(ctx: Ctx, case: Case) -> bool:
    """A correction replaces the whole record, its SECRET closed part included, so it needs the
    right to write that part too: without it the closed part would silently fall out of the live
    record. Asked of every meeting, not only those with a closed part: refusing only those would
    tell someone outside the corridor which meetings have one (MAPPA administrators never see
    SECRET, docs/domain.md)."""
    return may_supersede(ctx, case) and may(
        ctx, case, kind=Kind.MEETING_CLOSED, act=Act.WRITE, label=SECRET
    )


def _supersede(
    ctx: Ctx,
    meeting_id: uuid.UUID | str,
    verb: str,
    reason: str,
    replacement: Callable[[Case], MappaMeeting | None],
    *,
    whole: bool = False,
) -> tuple[MeetingSupersession, MappaMeeting | None]:
    """Correct or withdraw (`verb`) a meeting: decided, checked and given a reason before the
    replacement (None: withdrawn) is recorded and the original marked. `whole`: the replacement
    stands for every part of the meeting, so the user must be able to write the closed part."""
    old, case = _readable_meeting(ctx, meeting_id)
    event = case_event(case, f"mappa.meeting.{verb}", OS, old.id)
    message = f"Only those who may record this case's meetings may {verb} one."
    demand_write(ctx, case, Kind.MEETING_OPEN, OS, event, message)
    if whole:
        demand_write(ctx, case, Kind.MEETING_CLOSED, SECRET, event, CORRECT_WHOLE)
    done = ctx.session.scalar(
        select(MeetingSupersession.id).where(MeetingSupersession.meeting_id == old.id)
    )
    if done is not None:
        raise InvalidValue("reason", "", why=ALREADY)
    why = need_text("reason", reason, f"say why the meeting record is being {DONE[verb]}")
    try:
        # a concurrent correction or withdrawal may win between the check above and this insert
        # (the unique meeting_id): then nothing of this one stays, and the answer is the same
        with ctx.session.begin_nested():
            new = replacement(case)
            row = _write_supersession(ctx, case, old, new.id if new else None, why)
            ctx.session.flush()
    except IntegrityError:
        raise InvalidValue("reason", "", why=ALREADY) from None
    return row, new


DONE = {"correct": "corrected", "withdraw": "withdrawn"}
ALREADY = "this meeting has already been corrected or withdrawn"
CORRECT_WHOLE = (
    "Only senior managers in the sterile corridor who sit on this case's MAPPA panel may correct "
    "a meeting record, since a correction replaces every part of it. You may withdraw a record "
    "made in error."
)


def _write_supersession(
    ctx: Ctx, case: Case, old: MappaMeeting, replacement: uuid.UUID | None, reason: str
) -> MeetingSupersession:
    row = MeetingSupersession(
        id=uuid.uuid4(),
        meeting_id=old.id,
        case_id=case.id,
        replacement_id=replacement,
        by_id=ctx.subject.user_id,
        at=utcnow(),
        classification=OS,
        caveats="",
    )
    action = "mappa.meeting.correct" if replacement else "mappa.meeting.withdraw"
    detail: dict[str, object] = {"replacement": str(replacement or "")}
    event = case_event(case, action, OS, old.id, detail=detail)
    seal_new(ctx, case, Kind.MEETING_OPEN, row, {"reason": reason}, event)
    return row


def meetings_for_case(ctx: Ctx, case_id: uuid.UUID | str) -> list[MeetingView]:
    case = get_case(ctx, case_id)
    if not _readable(ctx, case):
        return []
    rows = ctx.session.scalars(
        select(MappaMeeting)
        .where(MappaMeeting.case_id == case.id)
        .order_by(MappaMeeting.held_on.desc(), MappaMeeting.created_at.desc())
    ).all()
    return _views(ctx, case, list(rows), with_closed=False)


def _readable(ctx: Ctx, case: Case) -> bool:
    return may(ctx, case, kind=Kind.MEETING_OPEN, label=OS)


def _views(ctx: Ctx, case: Case, rows: list[MappaMeeting], with_closed: bool) -> list[MeetingView]:
    from .models import MappaDecision

    if not rows:
        return []
    opened = _open_parts(ctx, case, rows)
    ids = [m.id for m, _ in opened.rows]
    people = names(ctx, [m.chair_id for m in rows] + [m.co_chair_id for m in rows])
    attendees: dict[uuid.UUID, list[AttendeeView]] = {}
    closed_ok = may(ctx, case, kind=Kind.MEETING_CLOSED, label=SECRET)
    for a in ctx.session.scalars(
        select(MeetingAttendee)
        .where(MeetingAttendee.meeting_id.in_(ids))
        .order_by(MeetingAttendee.id)
    ):
        if a.closed_part and not closed_ok:
            continue  # who sat in the closed part is itself for the corridor only
        attendees.setdefault(a.meeting_id, []).append(
            AttendeeView(a.agency, a.role, a.name, a.closed_part, a.user_id)
        )
    closed: dict[uuid.UUID, str] = {}
    if with_closed and closed_ok:
        parts = ctx.session.scalars(
            select(MeetingClosedPart).where(MeetingClosedPart.meeting_id.in_(ids))
        ).all()
        if parts:
            got = ctx.access.read(
                ctx.session,
                ctx.subject,
                list(parts),
                lambda p: case_facts(
                    ctx, case, Kind.MEETING_CLOSED, Classification.parse(p.classification)
                ),
                Event(
                    action="mappa.meeting.closed_read",
                    object_type="meeting",
                    outcome="allow",
                    label=SECRET,
                    object_id=str(ids[0]),
                    case_id=str(case.id),
                ),
            )
            closed = {p.meeting_id: plain["minutes"] or "" for p, plain in got.rows}  # type: ignore[attr-defined]
    decisions: dict[uuid.UUID, list[uuid.UUID]] = {}
    readable = {
        level.marking
        for level in (Classification.OFFICIAL, OS, SECRET)
        if may(ctx, case, kind=Kind.DECISION, label=level)
    }  # only the decisions the reader may open are linked: the rest leave no trace
    if readable:
        for did, mid in ctx.session.execute(
            select(MappaDecision.id, MappaDecision.meeting_id)
            .where(
                MappaDecision.meeting_id.in_(ids),
                MappaDecision.classification.in_(sorted(readable)),
            )
            .order_by(MappaDecision.created_at)
        ):
            decisions.setdefault(mid, []).append(did)
    marks, corrects, broken = _supersessions(ctx, case, ids)
    out = []
    for row, plain in opened.rows:
        m = cast(MappaMeeting, row)
        out.append(
            MeetingView(
                m.id,
                m.case_id,
                MeetingType(m.meeting_type),
                m.held_on,
                people.get(m.chair_id, ""),
                people.get(m.co_chair_id, "") if m.co_chair_id else "",
                m.next_review,
                plain["open_minutes"] or "",
                attendees.get(m.id, []),
                closed.get(m.id),
                closed_ok,
                decisions.get(m.id, []),
            )
        )
        out[-1].chair_id, out[-1].co_chair_id = m.chair_id, m.co_chair_id
        mark = marks.get(m.id)
        if mark is not None:
            out[-1].superseded_by, out[-1].superseded_reason = mark
            out[-1].withdrawn = mark[0] is None
        out[-1].corrects = corrects.get(m.id)
        if m.id in broken:
            out[-1].integrity = SUPERSESSION_FORGED
    return out


def _open_parts(ctx: Ctx, case: Case, rows: Sequence[Sealed]) -> Opened:
    """Open meeting rows at OFFICIAL-SENSITIVE (open parts, supersessions), read as the meeting."""
    return ctx.access.read(
        ctx.session,
        ctx.subject,
        list(rows),
        lambda r: case_facts(ctx, case, Kind.MEETING_OPEN, Classification.parse(r.classification)),
        case_event(case, "mappa.meeting.read", OS, outcome="allow"),
    )


Marks = dict[uuid.UUID, tuple[uuid.UUID | None, str]]


def _supersessions(
    ctx: Ctx, case: Case, ids: list[uuid.UUID]
) -> tuple[Marks, dict[uuid.UUID, uuid.UUID], set[uuid.UUID]]:
    """Superseded meetings -> (their correction, or None when withdrawn; the reason),
    corrections -> the meeting each corrects, and the meetings named by a supersession whose
    stamp fails (the access layer has withheld and audited it; its pointers are not to be
    believed, so every meeting it names is marked rather than shown as standing)."""
    marks: Marks = {}
    corrects: dict[uuid.UUID, uuid.UUID] = {}
    if not ids:
        return marks, corrects, set()
    rows = ctx.session.scalars(
        select(MeetingSupersession).where(
            or_(
                MeetingSupersession.meeting_id.in_(ids),
                MeetingSupersession.replacement_id.in_(ids),
            )
        )
    ).all()
    if not rows:
        return marks, corrects, set()
    opened = _open_parts(ctx, case, list(rows))
    for r, plain in opened.rows:
        row = cast(MeetingSupersession, r)
        marks[row.meeting_id] = (row.replacement_id, plain["reason"] or "")
        if row.replacement_id is not None:
            corrects[row.replacement_id] = row.meeting_id
    failed = [cast(MeetingSupersession, r) for r in opened.failed]
    broken = {i for r in failed for i in (r.meeting_id, r.replacement_id) if i in ids}
    return marks, corrects, broken


# -- disclosures -----------------------------------------------------------------------------------
def record_disclosure(ctx: Ctx, case_id: uuid.UUID | str, data: NewDisclosure) -> Disclosure:
    """Record the disclosure event (corridor managers on the panel only); nothing else is stored."""
    case = get_case(ctx, case_id)
    label = Label.of(data.classification or SECRET, list(data.caveats))
    event = Event(
        action="mappa.disclosure.record",
        object_type="disclosure",
        outcome="done",
        label=Classification.parse(label.classification.marking),
        object_id="",
        case_id=str(case.id),
    )
    demand_write(
        ctx,
        case,
        Kind.DISCLOSURE,
        Classification.parse(label.classification.marking),
        event,
        NOT_CORRIDOR.format("record or read disclosures"),
    )
    originator = Originator.parse(data.originator)
    detail = optional_text("originator", data.originator_detail, 120)
    if originator is Originator.OTHER and not detail:
        raise InvalidValue("originator", "", why="name the originating organisation")
    reference = need_text(
        "originator's reference",
        data.originator_reference,
        "enter the originator's reference",
        MAX_SHORT,
    )
    receiver = active_user(ctx, data.received_by_id, "person who received it")
    if data.received_at is None:
        raise InvalidValue("date received", None, why="enter when the disclosure was received")
    if data.received_at > utcnow():
        raise InvalidValue(
            "date received", data.received_at.isoformat(), why="cannot be in the future"
        )
    meeting_id = None
    if data.meeting_id is not None:
        meeting = ctx.session.get(MappaMeeting, parse_id(data.meeting_id, "meeting"))
        if meeting is None or meeting.case_id != case.id:
            raise InvalidValue("meeting", str(data.meeting_id), why="not a meeting of this case")
        meeting_id = meeting.id
    row = Disclosure(
        id=uuid.uuid4(),
        case_id=case.id,
        meeting_id=meeting_id,
        originator=originator.value,
        received_by_id=receiver.id,
        received_at=data.received_at,
        recorded_by_id=ctx.subject.user_id,
        created_at=utcnow(),
        classification=label.classification.marking,
        caveats=label.caveat_text(),
    )
    plain = {
        "reference": reference,
        "handling": optional_text("handling instructions", data.handling) or None,
        "summary": optional_text("summary", data.summary) or None,
        "originator_detail": detail or None,
    }
    ctx.access.write(
        ctx.session,
        ctx.subject,
        row,
        plain,
        case_facts(ctx, case, Kind.DISCLOSURE, Classification.parse(row.classification)),
        Event(
            action="mappa.disclosure.record",
            object_type="disclosure",
            outcome="done",
            label=Classification.parse(row.classification),
            object_id=str(row.id),
            case_id=str(case.id),
            detail={"originator": originator.value},
        ),
    )
    ctx.session.flush()
    return row


def disclosures_for_case(ctx: Ctx, case_id: uuid.UUID | str) -> list[DisclosureView]:
    case = get_case(ctx, case_id)
    event = Event(
        action="mappa.disclosure.list",
        object_type="disclosure",
        outcome="allow",
        label=SECRET,
        object_id="",
        case_id=str(case.id),
    )
    conceal(ctx, case, kind=Kind.DISCLOSURE, label=SECRET, act=Act.READ, event=event)
    rows = ctx.session.scalars(
        select(Disclosure)
        .where(Disclosure.case_id == case.id)
        .order_by(Disclosure.received_at.desc())
    ).all()
    return open_disclosures(ctx, case, list(rows), event)


def open_disclosures(
    ctx: Ctx, case: Case, rows: list[Disclosure], event: Event
) -> list[DisclosureView]:
    if not rows:
        return []
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        rows,
        lambda d: case_facts(ctx, case, Kind.DISCLOSURE, Classification.parse(d.classification)),
        event,
    )
    people = names(ctx, [d.received_by_id for d in rows])
    opened_rows = [(cast(Disclosure, r), p) for r, p in opened.rows]
    return [
        DisclosureView(
            d.id,
            d.case_id,
            d.meeting_id,
            Originator(d.originator),
            p["originator_detail"] or "",
            p["reference"] or "",
            people.get(d.received_by_id, ""),
            d.received_at,
            d.label,
            p["handling"] or "",
            p["summary"] or "",
        )
        for d, p in opened_rows
    ]
