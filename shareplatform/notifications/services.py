"""The notification centre: telling people that something changed, without telling them more.

Created at the moment of the event, in the event's transaction: the features send a named
signal (blinker, which Flask uses) and the receivers below write rows here, so the features
never import this package (tests/unit/test_architecture.py: no cycles). A row holds the event's
kind and ids only. A recipient is told only when the access layer allows them to read the
object at that moment, and never of a SECRET object unless they work in the sterile corridor;
when they open the list each item is decided again and its title read through the access layer,
so an item they may no longer see is left out, as if it had never been.
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from blinker import signal
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, aliased

from ..access.facts import CaseRef, Facts, Subject, relation
from ..access.kernel import AccessLayer
from ..access.vocabulary import Act, Kind
from ..accounts.models import User
from ..audit.log import Event
from ..break_glass.models import BreakGlass
from ..cases.models import Case, TeamMembership
from ..casework import case_facts
from ..context import Ctx
from ..crypto.blind_index import BlindIndexer
from ..db import utcnow
from ..domain.errors import NotFound
from ..domain.labels import Classification
from ..mappa.models import ActionStatus, Breakout, MappaAction, MappaDecision
from ..mappa.reading import action_views
from ..mappa.vocab import LIVE_STATES
from ..records.models import Record
from ..records.services import record_facts
from .models import Notification

VETTING_WARNING_DAYS = 30
LIST_LIMIT = 200  # the newest; older notifications stay stored but are not listed

# The signals features send (by name, so that they need not import this package).
RECORD_POSTED = signal("shareplatform.record-posted")  # ctx, case=, record=, supersedes=
ACTIONS_ASSIGNED = signal("shareplatform.actions-assigned")  # ctx, case=, actions=
BREAK_GLASS_TAKEN = signal("shareplatform.break-glass-taken")  # ctx, case=, grant=


class Kinds(enum.StrEnum):
    RECORD_NEW = "record.new"  # another agency's new record on my case
    RECORD_CORRECTED = "record.corrected"  # a correction to a record I wrote
    ACTION_ASSIGNED = "action.assigned"
    ACTION_OVERDUE = "action.overdue"
    BREAK_GLASS = "break_glass.taken"  # emergency access to a case of my unit
    VETTING = "vetting.expiring"  # my own vetting, within VETTING_WARNING_DAYS


@dataclass(frozen=True)
class Item:
    """One notification as its recipient may see it now."""

    id: uuid.UUID
    kind: str
    title: str
    href: str
    case_reference: str
    label: Classification
    created_at: datetime
    unread: bool


# -- deciding ------------------------------------------------------------------------------------
def as_recipient(ctx: Ctx, user_id: uuid.UUID) -> Ctx:
    """The same transaction, seen as another user (their memberships and clearance today)."""
    return replace(ctx, subject=ctx.access.subject(ctx.session, user_id, ctx.today))


def corridor_barred(subject: Subject, label: str | Classification) -> bool:
    """A SECRET object never reaches anyone outside the sterile corridor, whatever the policy."""
    return Classification.parse(label) >= Classification.SECRET and not subject.in_corridor


def _allowed(ctx: Ctx, facts: Facts, act: Act = Act.READ) -> bool:
    return ctx.access.decide(ctx.session, ctx.subject, facts, act).allowed


def may_read_record(ctx: Ctx, case: Case, record: Record) -> bool:
    if corridor_barred(ctx.subject, record.classification) or not record.facts_intact:
        return False
    return _allowed(ctx, record_facts(ctx, case, record))


def may_see_action(ctx: Ctx, case: Case, action: MappaAction) -> bool:
    """The action itself, or its break-out: what the owner's dashboard would show."""
    owner = action.owner_id == ctx.subject.user_id
    label = Classification.parse(action.classification)
    if not corridor_barred(ctx.subject, label) and _allowed(
        ctx, case_facts(ctx, case, Kind.ACTION, label, owner=owner)
    ):
        return True
    breakout = ctx.session.scalar(select(Breakout).where(Breakout.action_id == action.id))
    if breakout is None or corridor_barred(ctx.subject, breakout.classification):
        return False
    bo_label = Classification.parse(breakout.classification)
    return _allowed(ctx, case_facts(ctx, case, Kind.BREAKOUT, bo_label, owner=owner))


def may_review(ctx: Ctx, case: Case) -> bool:
    rel = relation(ctx.subject, CaseRef(case.id, case.nsd_unit, case.ct_unit))
    return _allowed(ctx, Facts.on(Kind.BREAK_GLASS_REVIEW, Classification.OFFICIAL_SENSITIVE, rel))


# -- writing -------------------------------------------------------------------------------------
def notify(
    ctx: Ctx,
    recipients: Iterable[uuid.UUID],
    kind: Kinds,
    object_id: uuid.UUID,
    case_id: uuid.UUID | None,
    may_see: Callable[[Ctx], bool],
) -> list[Notification]:
    """Tell each recipient (never the one acting) who may see the object now."""
    out = []
    for user_id in sorted(set(recipients) - {ctx.subject.user_id}):
        seen_as = as_recipient(ctx, user_id)
        if seen_as.subject.clearance is None or not may_see(seen_as):
            continue
        note = Notification(recipient_id=user_id, kind=kind.value, object_id=object_id)
        note.case_id = case_id
        ctx.session.add(note)
        out.append(note)
    return out


def case_team(session: Session, case_id: uuid.UUID, today: date) -> list[tuple[uuid.UUID, str]]:
    """(user id, agency) of the case's team and panel members today."""
    rows = session.execute(
        select(TeamMembership.user_id, User.agency)
        .join(User, User.id == TeamMembership.user_id)
        .where(
            TeamMembership.case_id == case_id,
            TeamMembership.start_date <= today,
            or_(TeamMembership.end_date.is_(None), TeamMembership.end_date >= today),
            User.disabled_at.is_(None),
        )
    ).all()
    return [(uid, agency) for uid, agency in rows]


def on_record_posted(
    ctx: Ctx, *, case: Case, record: Record, supersedes: Record | None = None, **_: Any
) -> None:
    def readable(seen_as: Ctx) -> bool:
        return may_read_record(seen_as, case, record)

    if supersedes is not None:
        notify(ctx, [supersedes.author_id], Kinds.RECORD_CORRECTED, record.id, case.id, readable)
        return
    others = [
        u
        for u, agency in case_team(ctx.session, case.id, ctx.today)
        if agency != record.originating_agency
    ]
    notify(ctx, others, Kinds.RECORD_NEW, record.id, case.id, readable)


def on_actions_assigned(ctx: Ctx, *, case: Case, actions: Sequence[MappaAction], **_: Any) -> None:
    for action in actions:
        notify(
            ctx,
            [action.owner_id],
            Kinds.ACTION_ASSIGNED,
            action.id,
            case.id,
            lambda seen_as, a=action: may_see_action(seen_as, case, a),  # type: ignore[misc]
        )


def unit_managers(session: Session, case: Case) -> list[uuid.UUID]:
    """Users of the case's NSD or CT unit: the policy then decides who reviews emergency access."""
    units = []
    if case.nsd_unit:
        units.append(User.nsd_unit == case.nsd_unit)
    if case.ct_unit:
        units.append(User.ct_unit == case.ct_unit)
    if not units:
        return []
    return list(session.scalars(select(User.id).where(or_(*units), User.disabled_at.is_(None))))


def on_break_glass_taken(ctx: Ctx, *, case: Case, grant: BreakGlass, **_: Any) -> None:
    notify(
        ctx,
        unit_managers(ctx.session, case),
        Kinds.BREAK_GLASS,
        grant.id,
        case.id,
        lambda seen_as: may_review(seen_as, case),
    )


def connect() -> None:
    """Listen to the features' signals (idempotent: blinker keeps one entry per receiver)."""
    RECORD_POSTED.connect(on_record_posted)
    ACTIONS_ASSIGNED.connect(on_actions_assigned)
    BREAK_GLASS_TAKEN.connect(on_break_glass_taken)


# -- the daily sweep -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Swept:
    vetting: int
    overdue: int


def _already(
    session: Session, recipient: uuid.UUID, kind: Kinds, object_id: uuid.UUID, since: datetime
) -> bool:
    return (
        session.scalar(
            select(Notification.id).where(
                Notification.recipient_id == recipient,
                Notification.kind == kind.value,
                Notification.object_id == object_id,
                Notification.created_at >= since,
            )
        )
        is not None
    )


def sweep(session: Session, access: AccessLayer, indexer: BlindIndexer, today: date) -> Swept:
    """Vetting about to expire, and actions that became overdue: once each (a daily cron job)."""
    vetting = _sweep_vetting(session, today)
    overdue = _sweep_overdue(session, access, indexer, today)
    return Swept(vetting, overdue)


def _sweep_vetting(session: Session, today: date) -> int:
    horizon = today + timedelta(days=VETTING_WARNING_DAYS)
    users = session.execute(
        select(User.id, User.vetting_expires).where(
            User.vetting_expires.is_not(None),
            User.vetting_expires >= today,
            User.vetting_expires <= horizon,
            User.disabled_at.is_(None),
        )
    ).all()
    count = 0
    for user_id, expires in users:
        assert expires is not None  # filtered above
        since = datetime.combine(
            expires - timedelta(days=VETTING_WARNING_DAYS + 1), datetime.min.time(), tzinfo=UTC
        )
        if not _already(session, user_id, Kinds.VETTING, user_id, since):
            session.add(
                Notification(recipient_id=user_id, kind=Kinds.VETTING.value, object_id=user_id)
            )
            count += 1
    return count


def _sweep_overdue(
    session: Session, access: AccessLayer, indexer: BlindIndexer, today: date
) -> int:
    latest = (
        select(ActionStatus.status)
        .where(ActionStatus.action_id == MappaAction.id)
        .order_by(ActionStatus.position.desc())
        .limit(1)
        .scalar_subquery()
    )
    successor = aliased(MappaDecision)
    rows = session.execute(
        select(MappaAction, Case)
        .join(Case, Case.id == MappaAction.case_id)
        .where(
            MappaAction.due_on < today,
            latest.in_(sorted(LIVE_STATES)),  # in progress is still to do, as on the dashboard
            ~select(successor.id)
            .where(successor.supersedes_id == MappaAction.decision_id)
            .exists(),
        )
    ).all()
    count = 0
    for action, case in rows:
        if _already(
            session,
            action.owner_id,
            Kinds.ACTION_OVERDUE,
            action.id,
            datetime.min.replace(tzinfo=UTC),
        ):
            continue
        owner = access.subject(session, action.owner_id, today)
        seen_as = Ctx(session, access, owner, indexer, today)
        if owner.clearance is not None and may_see_action(seen_as, case, action):
            note = Notification(
                recipient_id=action.owner_id, kind=Kinds.ACTION_OVERDUE.value, object_id=action.id
            )
            note.case_id = case.id
            session.add(note)
            count += 1
    return count


# -- reading -------------------------------------------------------------------------------------
def _mine(ctx: Ctx, unread_only: bool = False) -> list[Notification]:
    stmt = select(Notification).where(Notification.recipient_id == ctx.subject.user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(
        ctx.session.scalars(stmt.order_by(Notification.created_at.desc()).limit(LIST_LIMIT))
    )


@dataclass
class _Targets:
    """The objects a set of notifications names, loaded once."""

    cases: dict[uuid.UUID, Case]
    records: dict[uuid.UUID, Record]
    actions: dict[uuid.UUID, MappaAction]
    grants: dict[uuid.UUID, BreakGlass]


def _load(ctx: Ctx, notes: list[Notification]) -> _Targets:
    def ids(*kinds: Kinds) -> set[uuid.UUID]:
        return {n.object_id for n in notes if n.kind in kinds}

    def by_id(model: Any, wanted: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
        if not wanted:
            return {}
        return {r.id: r for r in ctx.session.scalars(select(model).where(model.id.in_(wanted)))}

    case_ids = {n.case_id for n in notes if n.case_id is not None}
    return _Targets(
        by_id(Case, case_ids),
        by_id(Record, ids(Kinds.RECORD_NEW, Kinds.RECORD_CORRECTED)),
        by_id(MappaAction, ids(Kinds.ACTION_ASSIGNED, Kinds.ACTION_OVERDUE)),
        by_id(BreakGlass, ids(Kinds.BREAK_GLASS)),
    )


def _visible(ctx: Ctx, note: Notification, t: _Targets) -> bool:
    """May the recipient see, today, the object this notification names? (decisions only)"""
    kind = note.kind
    if kind == Kinds.VETTING:
        return note.object_id == ctx.subject.user_id
    case = t.cases.get(note.case_id) if note.case_id else None
    if case is None or not case.facts_intact:
        return False
    if kind in (Kinds.RECORD_NEW, Kinds.RECORD_CORRECTED):
        record = t.records.get(note.object_id)
        return (
            record is not None and record.case_id == case.id and may_read_record(ctx, case, record)
        )
    if kind in (Kinds.ACTION_ASSIGNED, Kinds.ACTION_OVERDUE):
        action = t.actions.get(note.object_id)
        return (
            action is not None and action.case_id == case.id and may_see_action(ctx, case, action)
        )
    if kind == Kinds.BREAK_GLASS:
        grant = t.grants.get(note.object_id)
        return grant is not None and grant.case_id == case.id and may_review(ctx, case)
    return False


def unread_count(ctx: Ctx) -> int:
    """Unread notifications the user may still see (for the header): decisions, no decryption."""
    notes = _mine(ctx, unread_only=True)
    if not notes:
        return 0
    targets = _load(ctx, notes)
    return sum(1 for n in notes if _visible(ctx, n, targets))


def my_notifications(ctx: Ctx) -> list[Item]:
    """My notifications, newest first, titled through the access layer; what I may no longer see
    is left out."""
    notes = _mine(ctx)
    targets = _load(ctx, notes)
    shown = [n for n in notes if _visible(ctx, n, targets)]
    titles = _record_titles(ctx, shown, targets)
    titles.update(_action_titles(ctx, shown, targets))
    items = []
    for note in shown:
        item = _item(ctx, note, targets, titles)
        if item is not None:
            items.append(item)
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="notification.list",
            object_type="notification",
            outcome="allow",
            label=max((i.label for i in items), default=Classification.OFFICIAL),
            detail={"shown": [str(i.id) for i in items]},
        ),
    )
    return items


def _record_titles(
    ctx: Ctx, notes: list[Notification], t: _Targets
) -> dict[uuid.UUID, tuple[str, Classification]]:
    """Record titles, opened through the access layer (decided and audited, then decrypted)."""
    wanted = [t.records[n.object_id] for n in notes if n.object_id in t.records]
    by_case: dict[uuid.UUID, list[Record]] = defaultdict(list)
    for record in {r.id: r for r in wanted}.values():
        by_case[record.case_id].append(record)
    out: dict[uuid.UUID, tuple[str, Classification]] = {}
    for case_id, records in by_case.items():
        case = t.cases[case_id]
        opened = ctx.access.read(
            ctx.session,
            ctx.subject,
            records,
            lambda r, c=case: record_facts(ctx, c, r),  # type: ignore[misc]
            Event(
                action="notification.read",
                object_type="record",
                outcome="allow",
                label=Classification.OFFICIAL_SENSITIVE,
                case_id=str(case_id),
            ),
        )
        for row, plain in opened.rows:
            out[row.id] = (plain.get("title") or "", Classification.parse(row.classification))
    return out


def _action_titles(
    ctx: Ctx, notes: list[Notification], t: _Targets
) -> dict[uuid.UUID, tuple[str, Classification]]:
    """An action's description, or only its break-out: as the owner's dashboard shows it."""
    by_case: dict[uuid.UUID, dict[uuid.UUID, MappaAction]] = defaultdict(dict)
    for n in notes:
        action = t.actions.get(n.object_id)
        if action is not None:
            by_case[action.case_id][action.id] = action
    out: dict[uuid.UUID, tuple[str, Classification]] = {}
    for case_id, actions in by_case.items():
        for view in action_views(ctx, t.cases[case_id], list(actions.values())):
            if view.description is not None:
                out[view.id] = (view.description, view.label.classification)
            elif view.breakout is not None:
                out[view.id] = (view.breakout.text, view.breakout.label.classification)
    return out


def _item(
    ctx: Ctx,
    note: Notification,
    t: _Targets,
    titles: dict[uuid.UUID, tuple[str, Classification]],
) -> Item | None:
    case = t.cases.get(note.case_id) if note.case_id else None
    reference = case.reference if case else ""
    unread = note.read_at is None

    def item(title: str, href: str, label: Classification) -> Item:
        return Item(note.id, note.kind, title, href, reference, label, note.created_at, unread)

    if note.kind == Kinds.VETTING:
        user = ctx.session.get(User, ctx.subject.user_id)
        expires = user.vetting_expires if user else None
        if expires is None:
            return None
        return item(
            f"Your security vetting expires on {expires.strftime('%-d %B %Y')}",
            "account",
            Classification.OFFICIAL,
        )
    if note.kind == Kinds.BREAK_GLASS:
        return item(
            f"Emergency access was taken to case {reference}",
            "reviews",
            Classification.OFFICIAL_SENSITIVE,
        )
    found = titles.get(note.object_id)
    if found is None:  # withheld when opened (integrity, shredding): leave it out
        return None
    text, label = found
    if note.kind == Kinds.RECORD_NEW:
        record = t.records[note.object_id]
        return item(f"New record on case {reference}: {text}", f"record:{record.id}", label)
    if note.kind == Kinds.RECORD_CORRECTED:
        return item(
            f"Your record on case {reference} was corrected: {text}",
            f"record:{note.object_id}",
            label,
        )
    prefix = "Action overdue" if note.kind == Kinds.ACTION_OVERDUE else "Action assigned to you"
    return item(f"{prefix} on case {reference}: {text}", f"action:{note.object_id}", label)


def open_notification(ctx: Ctx, notification_id: uuid.UUID | str) -> Item:
    """Mark one of my notifications read and say where it leads; another user's, an unknown id
    or one I may no longer see answer the same NotFound."""
    try:
        nid = uuid.UUID(str(notification_id))
    except ValueError:
        raise NotFound("notification") from None
    note = ctx.session.get(Notification, nid)
    if note is None or note.recipient_id != ctx.subject.user_id:
        raise NotFound("notification")
    targets = _load(ctx, [note])
    if not _visible(ctx, note, targets):
        raise NotFound("notification")
    if note.read_at is None:
        note.read_at = utcnow()
    return Item(
        note.id, note.kind, "", _href_key(note), "", Classification.OFFICIAL, note.created_at, False
    )


def _href_key(note: Notification) -> str:
    if note.kind == Kinds.VETTING:
        return "account"
    if note.kind == Kinds.BREAK_GLASS:
        return "reviews"
    if note.kind in (Kinds.RECORD_NEW, Kinds.RECORD_CORRECTED):
        return f"record:{note.object_id}"
    return f"action:{note.object_id}"


def mark_all_read(ctx: Ctx) -> None:
    ctx.session.execute(
        update(Notification)
        .where(
            and_(Notification.recipient_id == ctx.subject.user_id, Notification.read_at.is_(None))
        )
        .values(read_at=utcnow())
    )
