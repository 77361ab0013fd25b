"""Reading the decision log: decide, audit, decrypt, then verify hash and signature."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import select

from ..access.facts import Facts
from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import get_case
from ..context import Ctx
from ..crypto.sealed import Sealed
from ..domain.errors import NotFound
from ..domain.labels import Classification, Label
from . import signing
from .common import OS, SECRET, case_facts, conceal, may, names, parse_id
from .content import action_content, breakout_content, decision_content
from .meetings import DisclosureView, open_disclosures
from .models import (
    ActionStatus,
    Breakout,
    Disclosure,
    MappaAction,
    MappaDecision,
    MappaMeeting,
    decision_disclosures,
)
from .vocab import DUE_SOON_DAYS, LIVE_STATES, ActionState, MeetingType

UNOPENABLE = "its stored content cannot be opened: it fails its integrity check"
FACTS_FORGED = "its authorisation facts do not match their stamp: it fails its integrity check"


@dataclass(frozen=True)
class StatusView:
    status: ActionState
    at: datetime
    by: str
    note: str
    from_status: ActionState | None = None  # None: the first step (the action was agreed)


@dataclass(frozen=True)
class BreakoutView:
    id: uuid.UUID
    action_id: uuid.UUID
    text: str
    label: Label
    approved_by: str
    approved_at: datetime
    consent: dict[str, str] | None
    integrity: str
    content_hash: str
    signature: str
    key_id: str
    audit_seq: int
    content: dict[str, object] | None = None  # what was signed (for inspection exports)


@dataclass
class ActionView:
    id: uuid.UUID
    decision_id: uuid.UUID
    case_id: uuid.UUID
    position: int
    owner: str
    owner_id: uuid.UUID
    owner_agency: str
    due_on: date
    label: Label
    description: str | None  # None: the reader may see only the break-out
    status: ActionState
    history: list[StatusView]
    breakout: BreakoutView | None
    integrity: str
    live: bool  # False once its decision has been superseded
    content: dict[str, object] | None = None
    content_hash: str = ""

    @property
    def to_do(self) -> bool:
        """Open or in progress: still to be done."""
        return self.status.value in LIVE_STATES

    def overdue(self, today: date) -> bool:
        return self.to_do and self.due_on < today

    def due_soon(self, today: date) -> bool:
        return self.to_do and today <= self.due_on <= today + timedelta(days=DUE_SOON_DAYS)


@dataclass
class DecisionView:
    id: uuid.UUID
    case_id: uuid.UUID
    meeting_id: uuid.UUID
    meeting_title: str
    label: Label
    decision: str
    rationale: str
    options: str
    level: int | None
    level_rationale: str
    decided_by: str
    agreed_by: str
    signer: str
    signer_role: str
    created_at: datetime
    supersedes_id: uuid.UUID | None
    superseded_by_id: uuid.UUID | None
    correction_reason: str
    content_hash: str
    signature: str
    key_id: str
    audit_seq: int
    disclosures: list[DisclosureView] = field(default_factory=list)
    actions: list[ActionView] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    content: dict[str, object] | None = None

    @property
    def verified(self) -> bool:
        return not self.integrity


# -- reading with integrity checks -----------------------------------------------------------------
def read_checked(
    ctx: Ctx,
    rows: Sequence[Sealed],
    facts_of: Callable[[Sealed], Facts],
    event: Event,
) -> tuple[list[tuple[Sealed, dict[str, str | None] | None]], dict[uuid.UUID, str]]:
    """Open what the reader may see; a row failing its integrity check (facts or ciphertext) is
    reported, not fatal: the access layer has withheld and audited it."""
    if not rows:
        return [], {}
    opened = ctx.access.read(ctx.session, ctx.subject, rows, facts_of, event)
    out: list[tuple[Sealed, dict[str, str | None] | None]] = [(r, p) for r, p in opened.rows]
    problems: dict[uuid.UUID, str] = {}
    for row in opened.failed:
        problems[row.id] = UNOPENABLE if row.facts_intact else FACTS_FORGED
        out.append((row, None))
    return out, problems


def _verify(
    ctx: Ctx,
    kind: str,
    content: dict[str, object] | None,
    stored: bytes,
    signature: bytes | None,
    key_id: str | None = None,
) -> str:
    if content is None:
        return UNOPENABLE
    signer = ctx.access.audit.signer
    if key_id is not None and key_id != signer.key_id:
        return "signed with a key this platform does not hold"
    return signing.verify(signer.public_key, kind, content, stored, signature)


def decision_and_case(ctx: Ctx, decision_id: uuid.UUID | str) -> tuple[MappaDecision, Case]:
    did = parse_id(decision_id, "decision")
    row = ctx.session.get(MappaDecision, did)
    if row is None:
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action="mappa.decision.read",
                object_type="decision",
                outcome="deny",
                label=Classification.OFFICIAL,
                object_id=str(did),
                case_id="",
                reason="no such decision",
            ),
        )
        raise NotFound("decision")
    try:
        return row, get_case(ctx, row.case_id)
    except NotFound:
        raise NotFound("decision") from None  # worded as for a decision that does not exist


def open_decision(ctx: Ctx, case: Case, row: MappaDecision) -> dict[str, str | None]:
    return ctx.access.read_one(
        ctx.session,
        ctx.subject,
        row,
        case_facts(ctx, case, Kind.DECISION, Classification.parse(row.classification)),
        Event(
            action="mappa.decision.read",
            object_type="decision",
            outcome="allow",
            label=Classification.parse(row.classification),
            object_id=str(row.id),
            case_id=str(case.id),
        ),
    )


def decision_log(ctx: Ctx, case_id: uuid.UUID | str) -> list[DecisionView]:
    """Every decision on the case the reader may see, corrected ones flagged, newest first."""
    case = get_case(ctx, case_id)
    event = Event(
        action="mappa.decision.list",
        object_type="decision",
        outcome="allow",
        label=SECRET,
        object_id="",
        case_id=str(case.id),
    )
    # the team and panel read ordinary decisions; the corridor SECRET ones too
    conceal(
        ctx,
        case,
        kind=Kind.DECISION,
        label=lowest_readable(ctx, case, Kind.DECISION),
        act=Act.READ,
        event=event,
    )
    rows = ctx.session.scalars(
        select(MappaDecision)
        .where(MappaDecision.case_id == case.id)
        .order_by(MappaDecision.created_at.desc())
    ).all()
    views = decision_views(ctx, case, list(rows))
    if not views:  # outside the corridor, a log with only SECRET decisions answers as an absent one
        conceal(ctx, case, kind=Kind.DECISION, label=SECRET, act=Act.READ, event=event)
    return views


LEVELS = (Classification.OFFICIAL, OS, SECRET)


def lowest_readable(ctx: Ctx, case: Case, kind: Kind) -> Classification:
    """The lowest label at which the reader may read `kind` on the case (SECRET when none: the
    check then refuses, as for a case with no such objects)."""
    for level in LEVELS:
        if may(ctx, case, kind=kind, label=level):
            return level
    return SECRET


def readable_labels(ctx: Ctx, case: Case, kind: Kind) -> set[str]:
    """The markings at which the reader may read `kind` on this case."""
    return {level.marking for level in LEVELS if may(ctx, case, kind=kind, label=level)}


def decision_page(
    ctx: Ctx, decision_id: uuid.UUID | str
) -> tuple[DecisionView, list[DecisionView]]:
    """One decision and every version of it (oldest first), each verified."""
    row, case = decision_and_case(ctx, decision_id)
    conceal(  # a decision the user may not read answers as one that does not exist
        ctx,
        case,
        kind=Kind.DECISION,
        label=Classification.parse(row.classification),
        act=Act.READ,
        event=Event(
            action="mappa.decision.read",
            object_type="decision",
            outcome="allow",
            label=Classification.parse(row.classification),
            object_id=str(row.id),
            case_id=str(case.id),
        ),
    )
    chain = _chain(ctx, row)
    views = {v.id: v for v in decision_views(ctx, case, chain)}
    if row.id not in views:
        raise NotFound("decision")
    return views[row.id], [views[r.id] for r in chain if r.id in views]


def _chain(ctx: Ctx, row: MappaDecision) -> list[MappaDecision]:
    chain = [row]
    current = row
    while current.supersedes_id is not None:
        prev = ctx.session.get(MappaDecision, current.supersedes_id)
        if prev is None:
            break
        chain.insert(0, prev)
        current = prev
    current = row
    while (
        nxt := ctx.session.scalar(
            select(MappaDecision).where(MappaDecision.supersedes_id == current.id)
        )
    ) is not None:
        chain.append(nxt)
        current = nxt
    return chain


def decision_views(ctx: Ctx, case: Case, rows: list[MappaDecision]) -> list[DecisionView]:
    if not rows:
        return []
    opened, problems = read_checked(
        ctx,
        rows,
        lambda d: case_facts(ctx, case, Kind.DECISION, Classification.parse(d.classification)),
        Event(
            action="mappa.decision.read",
            object_type="decision",
            outcome="allow",
            label=SECRET,
            object_id="",
            case_id=str(case.id),
            detail={"decisions": [str(r.id) for r in rows]},
        ),
    )
    ids = [r.id for r, _ in opened]
    links: dict[uuid.UUID, list[uuid.UUID]] = {}
    for did, disc in ctx.session.execute(
        select(decision_disclosures.c.decision_id, decision_disclosures.c.disclosure_id).where(
            decision_disclosures.c.decision_id.in_(ids)
        )
    ):
        links.setdefault(did, []).append(disc)
    disc_ids = {d for ds in links.values() for d in ds}
    disc_rows = (
        list(ctx.session.scalars(select(Disclosure).where(Disclosure.id.in_(disc_ids))))
        if disc_ids
        else []
    )
    disc_views = {
        d.id: d
        for d in open_disclosures(
            ctx,
            case,
            disc_rows,
            Event(
                action="mappa.disclosure.read",
                object_type="disclosure",
                outcome="allow",
                label=SECRET,
                object_id="",
                case_id=str(case.id),
            ),
        )
    }
    action_rows = list(
        ctx.session.scalars(
            select(MappaAction)
            .where(MappaAction.decision_id.in_(ids))
            .order_by(MappaAction.position)
        )
    )
    actions: dict[uuid.UUID, list[ActionView]] = {}
    for view in action_views(ctx, case, action_rows):
        actions.setdefault(view.decision_id, []).append(view)
    by_decision: dict[uuid.UUID, list[MappaAction]] = {}
    for row in action_rows:
        by_decision.setdefault(row.decision_id, []).append(row)
    # a correction names its neighbours only where the reader may read them: a withheld original
    # or successor is not named (reading.py `decision_page` answers it as unknown)
    readable = readable_labels(ctx, case, Kind.DECISION)
    successors = {
        old: new
        for old, new, marking in ctx.session.execute(
            select(
                MappaDecision.supersedes_id, MappaDecision.id, MappaDecision.classification
            ).where(MappaDecision.supersedes_id.in_(ids))
        ).all()
        if marking in readable
    }
    originals = set(
        ctx.session.scalars(
            select(MappaDecision.id).where(
                MappaDecision.id.in_({r.supersedes_id for r, _ in opened if r.supersedes_id}),  # type: ignore[attr-defined]
                MappaDecision.classification.in_(readable),
            )
        )
    )
    meetings = {
        m.id: m
        for m in ctx.session.scalars(
            select(MappaMeeting).where(
                MappaMeeting.id.in_({cast(MappaDecision, r).meeting_id for r, _ in opened})
            )
        )
    }
    people = names(ctx, [r.decided_by_id for r, _ in opened] + [r.agreed_by_id for r, _ in opened])  # type: ignore[attr-defined]
    out = []
    for r, plain in opened:
        d: MappaDecision = r  # type: ignore[assignment]
        p = plain or {}
        content = None
        if plain is not None:
            try:
                content = decision_content(
                    d,
                    p,
                    links.get(d.id, []),
                    [(a.id, a.content_hash) for a in by_decision.get(d.id, [])],
                )
            except ValueError:  # a label that no longer parses
                content = None
        problems_of = [f"decision: {problems[d.id]}"] if d.id in problems else []
        problem = _verify(ctx, "decision", content, d.content_hash, d.signature, d.key_id)
        if problem and not problems_of:
            problems_of.append(f"decision: {problem}")
        problems_of += [
            f"action {a.position + 1}: {a.integrity}" for a in actions.get(d.id, []) if a.integrity
        ]
        problems_of += [
            f"action {a.position + 1} break-out: {a.breakout.integrity}"
            for a in actions.get(d.id, [])
            if a.breakout and a.breakout.integrity
        ]
        meeting = meetings.get(d.meeting_id)
        if meeting is not None and not meeting.facts_intact:  # its type or date behind the decision
            problems_of.append(f"meeting: {FACTS_FORGED}")
            meeting = None
        out.append(
            DecisionView(
                d.id,
                d.case_id,
                d.meeting_id,
                f"{MeetingType(meeting.meeting_type).title}, {meeting.held_on:%d %B %Y}"
                if meeting
                else "",
                _label(d),
                p.get("decision") or "",
                p.get("rationale") or "",
                p.get("options") or "",
                d.level,
                p.get("level_rationale") or "",
                people.get(d.decided_by_id, ""),
                people.get(d.agreed_by_id, "") if d.agreed_by_id else "",
                d.signer_name,
                d.signer_role,
                d.created_at,
                d.supersedes_id if d.supersedes_id in originals else None,
                successors.get(d.id),
                p.get("correction_reason") or "",
                d.content_hash.hex(),
                d.signature.hex(),
                d.key_id,
                d.audit_seq,
                [disc_views[i] for i in links.get(d.id, []) if i in disc_views],
                actions.get(d.id, []),
                problems_of,
                content,
            )
        )
    return out


def _label(row: Sealed) -> Label:
    try:
        return row.label
    except ValueError:
        return Label.of(SECRET, [])  # an unparseable stored label: treat as the highest


# -- actions ---------------------------------------------------------------------------------------
def action_views(ctx: Ctx, case: Case, rows: list[MappaAction]) -> list[ActionView]:
    """Actions as this reader may see them: the action itself, or only its break-out, or nothing."""
    if not rows:
        return []
    me = ctx.subject.user_id
    opened, problems = read_checked(
        ctx,
        rows,
        lambda a: case_facts(
            ctx,
            case,
            Kind.ACTION,
            Classification.parse(a.classification),
            owner=a.owner_id == me,  # type: ignore[attr-defined]
        ),
        Event(
            action="mappa.action.read",
            object_type="action",
            outcome="allow",
            label=SECRET,
            object_id="",
            case_id=str(case.id),
        ),
    )
    plains = {r.id: p for r, p in opened}
    ids = [a.id for a in rows]
    owner_of = {a.id: a.owner_id for a in rows}

    def child_facts(row: Sealed, kind: Kind) -> Facts:
        action_id = cast(ActionStatus | Breakout, row).action_id
        return case_facts(
            ctx,
            case,
            kind,
            Classification.parse(row.classification),
            owner=owner_of[action_id] == me,
        )

    bo_rows = list(ctx.session.scalars(select(Breakout).where(Breakout.action_id.in_(ids))))
    got_bo, bo_problems = read_checked(
        ctx,
        bo_rows,
        lambda r: child_facts(r, Kind.BREAKOUT),
        Event(
            action="mappa.breakout.read",
            object_type="breakout",
            outcome="allow",
            label=OS,
            object_id="",
            case_id=str(case.id),
        ),
    )
    # status history only of the actions this reader sees (the action or its break-out)
    visible = [i for i in ids if plains.get(i) is not None or i in problems] + [
        cast(Breakout, b).action_id for b, _ in got_bo
    ]
    status_rows = list(
        ctx.session.scalars(
            select(ActionStatus)
            .where(ActionStatus.action_id.in_(set(visible)))
            .order_by(ActionStatus.action_id, ActionStatus.position)
        )
    )
    states: dict[uuid.UUID, ActionState] = {}
    forged_status: set[uuid.UUID] = set()
    for s in status_rows:
        if not s.facts_intact:  # a status not written by the service never counts
            forged_status.add(s.action_id)
            continue
        states[s.action_id] = ActionState(s.status)  # positions ascend: the last one wins
    got_status, _ = read_checked(
        ctx,
        status_rows,
        lambda r: child_facts(r, Kind.ACTION_STATUS),
        Event(
            action="mappa.action_status.read",
            object_type="action",
            outcome="allow",
            label=OS,
            object_id="",
            case_id=str(case.id),
        ),
    )
    people = names(
        ctx,
        [a.owner_id for a in rows]
        + [s.by_id for s in status_rows]
        + [b.approved_by_id for b in bo_rows],
    )
    history: dict[uuid.UUID, list[StatusView]] = {}
    for srow, p in got_status:
        st = cast(ActionStatus, srow)
        steps = history.setdefault(st.action_id, [])
        steps.append(
            StatusView(
                ActionState(st.status),
                st.at,
                people.get(st.by_id, ""),
                (p or {}).get("note") or "",
                steps[-1].status if steps else None,
            )
        )
    breakouts: dict[uuid.UUID, BreakoutView] = {}
    for b, p in got_bo:
        bo: Breakout = b  # type: ignore[assignment]
        bcontent = breakout_content(bo, p) if p is not None else None
        problem = bo_problems.get(bo.id) or _verify(
            ctx, "breakout", bcontent, bo.content_hash, bo.signature, bo.key_id
        )
        consent = json.loads(p.get("consent") or "null") if p else None
        breakouts[bo.action_id] = BreakoutView(
            bo.id,
            bo.action_id,
            (p or {}).get("text") or "",
            _label(bo),
            people.get(bo.approved_by_id, ""),
            bo.approved_at,
            consent,
            problem,
            bo.content_hash.hex(),
            bo.signature.hex(),
            bo.key_id,
            bo.audit_seq,
            bcontent,
        )
    superseded = set(
        ctx.session.scalars(
            select(MappaDecision.supersedes_id).where(
                MappaDecision.supersedes_id.in_({a.decision_id for a in rows})
            )
        )
    )
    out = []
    for a in rows:
        plain = plains.get(a.id)
        integrity = ""
        acontent = action_content(a, plain) if plain is not None else None
        if a.id in problems:
            integrity = problems[a.id]
        elif acontent is not None:
            integrity = _verify(ctx, "action", acontent, a.content_hash, None)
        if not integrity and a.id in forged_status:
            integrity = f"a status change {FACTS_FORGED}"
        if plain is None and a.id not in problems and a.id not in breakouts:
            continue  # neither the action nor a break-out is this reader's to see
        out.append(
            ActionView(
                a.id,
                a.decision_id,
                a.case_id,
                a.position,
                people.get(a.owner_id, ""),
                a.owner_id,
                a.owner_agency,
                a.due_on,
                _label(a),
                plain.get("description") if plain else None,
                states.get(a.id, ActionState.OPEN),
                history.get(a.id, []),
                breakouts.get(a.id),
                integrity,
                a.decision_id not in superseded,
                acontent,
                a.content_hash.hex(),
            )
        )
    return out
