"""Decisions: validate, preview (confirmation), sign, record; corrections supersede.

Everything is validated and signed before anything is added to the session, so a refusal or a
signing failure leaves nothing behind (only the audit entry of a refusal). Nothing here updates
a stored row: a correction is a new decision naming the one it supersedes, with a reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import date

from blinker import signal
from sqlalchemy import insert, select

from ..access.vocabulary import Act, Kind
from ..accounts.models import User
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import get_case, set_level
from ..casework import originators
from ..context import Ctx
from ..db import utcnow
from ..domain.cases import MappaLevel
from ..domain.errors import InvalidValue, NotPermitted
from ..domain.labels import Caveat, Classification, Label
from ..domain.rules import lowers
from . import signing
from .common import (
    OS,
    SECRET,
    active_user,
    case_event,
    current_members,
    demand_write,
    may,
    names,
    not_future,
    parse_id,
    seal_new,
)
from .content import action_content, breakout_content, decision_content
from .models import (
    Breakout,
    Disclosure,
    MappaAction,
    MappaDecision,
    MappaMeeting,
    decision_disclosures,
)
from .vocab import (
    MAX_SHORT,
    ActionState,
    MeetingType,
    NewAction,
    NewBreakout,
    NewDecision,
    need_text,
    optional_text,
)

ORDINARY = (Classification.OFFICIAL, OS)  # the labels a chair picks for a decision on no disclosure
NOT_ON_PANEL = (
    "Only senior managers in the sterile corridor who sit on this case's MAPPA panel may record "
    "decisions."
)
CHAIRS_ONLY = "Only the chair or co-chair of the meeting may record its decisions."
CHAIR_APPROVES = "Only the chair of the meeting may approve a break-out for release."


@dataclass(frozen=True)
class PreparedBreakout:
    text: str
    label: Label
    consent: dict[str, str] | None


@dataclass(frozen=True)
class PreparedAction:
    description: str
    owner: User
    due_on: date
    breakout: PreparedBreakout | None


@dataclass
class Prepared:
    """A validated decision, ready to confirm: exactly what will be recorded."""

    case: Case
    meeting: MappaMeeting
    disclosures: list[Disclosure]
    decision: str
    rationale: str
    options: str
    level: int | None
    level_rationale: str
    label: Label
    actions: list[PreparedAction]
    supersedes: MappaDecision | None = None
    reason: str = ""
    people: dict[uuid.UUID, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        """What the user confirmed: recording refuses anything that differs from it."""
        draft = {
            "case": str(self.case.id),
            "meeting": str(self.meeting.id),
            "disclosures": sorted(str(d.id) for d in self.disclosures),
            "decision": self.decision,
            "rationale": self.rationale,
            "options": self.options,
            "level": self.level,
            "level_rationale": self.level_rationale,
            "label": self.label.canonical(),
            "supersedes": str(self.supersedes.id) if self.supersedes else None,
            "reason": self.reason,
            "actions": [
                [
                    a.description,
                    str(a.owner.id),
                    a.due_on.isoformat(),
                    [a.breakout.text, a.breakout.label.canonical(), a.breakout.consent]
                    if a.breakout
                    else None,
                ]
                for a in self.actions
            ],
        }
        return hashlib.sha256(signing.canonical(draft)).hexdigest()

    @property
    def decided_by(self) -> str:
        return self.people.get(self.meeting.chair_id, "")

    @property
    def agreed_by(self) -> str:
        return self.people.get(self.meeting.co_chair_id, "") if self.meeting.co_chair_id else ""

    @property
    def meeting_title(self) -> str:
        return f"{MeetingType(self.meeting.meeting_type).title}, {self.meeting.held_on:%d %B %Y}"


def may_record(ctx: Ctx, case: Case) -> bool:
    """May the user record (or correct) decisions on this case at all? Pages offer only this."""
    return may(ctx, case, kind=Kind.DECISION, act=Act.WRITE, label=SECRET)


# -- validation -----------------------------------------------------------------------------------
def _check_downgrade(ctx: Ctx, case: Case, old: MappaDecision, label: Label, reason: str) -> None:
    """A correction at a lower label is a downgrade: the originator's alone (docs/domain.md,
    "Labels"), audited with its reason whether refused or allowed, as records are
    (shareplatform/records/services.py). The originator is whoever signed each version the
    downgrade would lower, back to the first: correcting someone's SECRET decision at SECRET does
    not make it yours to lower (shareplatform/casework.py `originators`)."""
    signers = originators(ctx.session, old, label, lambda d: d.signed_by_id)
    mine = signers == {ctx.subject.user_id}
    ctx.access.record(
        ctx.session,
        ctx.subject,
        case_event(
            case,
            "mappa.decision.downgrade",
            Classification.parse(old.classification),
            old.id,
            outcome="allow" if mine else "deny",
            reason=reason if mine else "only the originator may downgrade",
            detail={"from": old.label.canonical(), "to": label.canonical(), "reason": reason},
        ),
    )
    if not mine:
        raise NotPermitted(
            "Only the originator of this decision may correct it to a lower label or drop a "
            "handling caveat."
        )


def _demand_prepare(
    ctx: Ctx, case: Case, kind: Kind, label: Label, message: str
) -> tuple[Classification, Event]:
    """May the user write `kind` (a decision or break-out) at `label`? Audited as preparing it;
    returns the level and that event, for the checks that follow."""
    level = Classification.parse(label.classification.marking)
    event = case_event(case, f"mappa.{kind.value}.prepare", level, outcome="allow")
    demand_write(ctx, case, kind, level, event, message)
    return level, event


def prepare_decision(
    ctx: Ctx,
    case_id: uuid.UUID | str,
    data: NewDecision,
    *,
    supersedes: MappaDecision | None = None,
    reason: str = "",
) -> Prepared:
    """Validate a decision; return what would be recorded (confirmation step). Stores nothing."""
    case = get_case(ctx, case_id)
    if data.disclosure_ids:  # decided first: whether a disclosure exists is the corridor's to know
        event = case_event(case, "mappa.decision.prepare", SECRET, outcome="allow")
        demand_write(ctx, case, Kind.DECISION, SECRET, event, NOT_ON_PANEL)
    disclosures = _disclosures(ctx, case, data.disclosure_ids)
    label = _label_for(data, disclosures)
    level, event = _demand_prepare(ctx, case, Kind.DECISION, label, NOT_ON_PANEL)
    meeting_id = supersedes.meeting_id if supersedes is not None else data.meeting_id
    if meeting_id is None:
        raise InvalidValue(
            "meeting", None, why="choose the meeting at which the decision was taken"
        )
    meeting = ctx.session.get(MappaMeeting, parse_id(meeting_id, "meeting"))
    if meeting is None or meeting.case_id != case.id:
        raise InvalidValue("meeting", str(meeting_id), why="not a meeting of this case")
    if ctx.subject.user_id not in (meeting.chair_id, meeting.co_chair_id):
        raise NotPermitted(CHAIRS_ONLY)
    _check_label(label, disclosures)
    if supersedes is not None and lowers(supersedes.label, label):
        _check_downgrade(ctx, case, supersedes, label, reason)
    if data.actions:
        demand_write(
            ctx,
            case,
            Kind.ACTION,
            level,
            event,
            "You may not record agreed actions at this label.",
        )
    prepared = Prepared(
        case=case,
        meeting=meeting,
        disclosures=disclosures,
        decision=need_text("decision", data.decision, "enter the decision"),
        rationale=need_text("rationale", data.rationale, "enter the rationale for the decision"),
        options=optional_text("options considered", data.options),
        level=None,
        level_rationale="",
        label=label,
        actions=[
            _action(ctx, case, meeting, label, i, a) for i, a in enumerate(data.actions, start=1)
        ],
        supersedes=supersedes,
        reason=need_text("reason for correction", reason, "say why the decision is being corrected")
        if supersedes is not None
        else "",
    )
    if data.level not in (None, ""):
        prepared.level = int(MappaLevel.parse(data.level))
        prepared.level_rationale = need_text(
            "rationale for the MAPPA level",
            data.level_rationale,
            "give the rationale for the MAPPA level (recorded in the case's level history "
            "at OFFICIAL-SENSITIVE)",
        )
        demand_write(
            ctx,
            case,
            Kind.MAPPA_LEVEL,
            OS,
            event,
            "You may not change this case's MAPPA level.",
        )
    prepared.people = names(
        ctx, [meeting.chair_id, meeting.co_chair_id, *[a.owner.id for a in prepared.actions]]
    )
    return prepared


def _disclosures(ctx: Ctx, case: Case, ids: list[uuid.UUID]) -> list[Disclosure]:
    """The disclosures a decision rests on: none for an ordinary MAPPA or core-group decision."""
    if not ids:
        return []
    wanted = {parse_id(i, "disclosure") for i in ids}
    rows = list(
        ctx.session.scalars(
            select(Disclosure).where(Disclosure.id.in_(wanted), Disclosure.case_id == case.id)
        )
    )
    if len(rows) != len(wanted):
        raise InvalidValue(
            "disclosures", "", why="every disclosure must be one recorded on this case"
        )
    return sorted(rows, key=lambda d: (d.received_at, str(d.id)))


def _label_for(data: NewDecision, disclosures: list[Disclosure]) -> Label:
    """A decision's label follows what it rests on: the disclosures' label (SECRET), or, resting
    on none, OFFICIAL or OFFICIAL-SENSITIVE as the chair chooses (OFFICIAL-SENSITIVE by default).
    Only a decision resting on SECRET material is in the sterile corridor."""
    if disclosures:  # it carries what it rests on: their label and their handling caveats
        floor = max(Classification.parse(d.classification) for d in disclosures)
        inherited = {c.value for d in disclosures for c in d.label.caveats}
        return Label.of(data.classification or floor, sorted(inherited | set(data.caveats)))
    label = Label.of(data.classification or OS, list(data.caveats))
    if Caveat.ORCON in label.caveats:  # decisions' facts carry no originator to enforce it for
        raise InvalidValue(
            "caveats",
            str(label),
            why="ORCON is an originator's control of what they disclosed: a decision that rests "
            "on no disclosure cannot carry it",
        )
    if Classification.parse(label.classification.marking) not in ORDINARY:
        raise InvalidValue(
            "label",
            str(label),
            why="a decision that rests on no disclosure is OFFICIAL or OFFICIAL-SENSITIVE; "
            "choose the disclosure it rests on to record it at SECRET",
        )
    return label


def _check_label(label: Label, disclosures: list[Disclosure]) -> None:
    """A decision carries at least the label it rests on: only an originator may downgrade."""
    if not disclosures:
        return
    floor = max(Classification.parse(d.classification) for d in disclosures)
    if label.classification < floor:
        raise InvalidValue(
            "label",
            str(label),
            why=f"a decision resting on {floor.marking} disclosures is at least {floor.marking}",
        )
    caveats = frozenset().union(*(d.label.caveats for d in disclosures))
    missing = caveats - label.caveats
    if missing:
        raise InvalidValue(
            "caveats",
            str(label),
            why="keep the disclosures' caveats: " + ", ".join(sorted(missing)),
        )


def _action(
    ctx: Ctx, case: Case, meeting: MappaMeeting, label: Label, n: int, a: NewAction
) -> PreparedAction:
    description = need_text(f"action {n} description", a.description, f"describe action {n}")
    if a.owner_id in (None, ""):
        raise InvalidValue(f"action {n} owner", None, why=f"choose who owns action {n}")
    owner = active_user(ctx, a.owner_id, f"action {n} owner")
    if owner.id not in current_members(ctx, case):
        raise InvalidValue(
            f"action {n} owner",
            owner.display_name,
            why="the owner must be on the case team or panel",
        )
    if a.due_on is None:
        raise InvalidValue(f"action {n} due date", None, why=f"enter when action {n} is due")
    if a.due_on < ctx.today:
        raise InvalidValue(
            f"action {n} due date", a.due_on.isoformat(), why="the due date cannot be in the past"
        )
    breakout = (
        prepare_breakout(ctx, case, meeting, label, a.breakout, n)
        if a.breakout is not None
        else None
    )
    return PreparedAction(description, owner, a.due_on, breakout)


def prepare_breakout(
    ctx: Ctx,
    case: Case,
    meeting: MappaMeeting,
    source: Label,
    data: NewBreakout,
    n: int | None = None,
) -> PreparedBreakout:
    what = f"action {n} break-out" if n else "break-out"
    text = (data.classification or "").strip().upper().replace("_", "-")
    if text in ("SECRET", "TOP-SECRET", "TOP SECRET"):
        raise InvalidValue(
            f"{what} label",
            data.classification,
            why="a break-out is a sanitised release at OFFICIAL-SENSITIVE or below; "
            "SECRET is refused",
        )
    label = Label.of(data.classification or OS, [])
    if ctx.subject.user_id != meeting.chair_id:
        raise NotPermitted(CHAIR_APPROVES)
    _demand_prepare(
        ctx, case, Kind.BREAKOUT, label, "You may not approve a break-out at this label."
    )
    body = need_text(f"{what} text", data.text, "enter the sanitised action to release")
    consent = None
    if Caveat.ORCON in source.caveats:
        who = optional_text("originator's consent", data.consent_from, MAX_SHORT)
        if not who or data.consent_on is None:
            raise InvalidValue(
                f"{what} consent",
                "",
                why="ORCON material: record who at the originator consented to the release, "
                "and when",
            )
        consent = {
            "from": who,
            "reference": optional_text("consent reference", data.consent_reference, MAX_SHORT),
            "on": not_future("consent date", data.consent_on, ctx.today).isoformat(),
        }
    return PreparedBreakout(body, label, consent)


# -- recording ------------------------------------------------------------------------------------
def record_decision(
    ctx: Ctx, case_id: uuid.UUID | str, data: NewDecision, confirm: str
) -> MappaDecision:
    """Record and sign a decision the user has confirmed. It is immutable from then on."""
    return commit(ctx, prepare_decision(ctx, case_id, data), confirm)


def correct_decision(
    ctx: Ctx, decision_id: uuid.UUID | str, data: NewDecision, reason: str, confirm: str
) -> MappaDecision:
    return commit(ctx, prepare_correction(ctx, decision_id, data, reason), confirm)


def prepare_correction(
    ctx: Ctx, decision_id: uuid.UUID | str, data: NewDecision, reason: str
) -> Prepared:
    from .reading import decision_and_case, open_decision

    old, case = decision_and_case(ctx, decision_id)
    open_decision(ctx, case, old)  # must be able to read what is being corrected (audited)
    newer = ctx.session.scalar(
        select(MappaDecision.id).where(MappaDecision.supersedes_id == old.id)
    )
    if newer is not None:
        raise NotPermitted(
            "This decision has already been corrected: correct the latest version instead."
        )
    return prepare_decision(ctx, case.id, data, supersedes=old, reason=reason)


def commit(ctx: Ctx, prep: Prepared, confirm: str) -> MappaDecision:
    if not confirm or not hmac.compare_digest(str(confirm), prep.token):
        raise InvalidValue(
            "confirmation",
            "",
            why="the decision differs from what was confirmed: check it and confirm again",
        )
    s, case, label = ctx.subject, prep.case, prep.label
    signer = ctx.access.audit.signer
    now = utcnow()
    row = MappaDecision(
        id=uuid.uuid4(),
        case_id=case.id,
        meeting_id=prep.meeting.id,
        decided_by_id=prep.meeting.chair_id,
        agreed_by_id=prep.meeting.co_chair_id,
        level=prep.level,
        supersedes_id=prep.supersedes.id if prep.supersedes else None,
        signed_by_id=s.user_id,
        signer_name=s.username,
        signer_role=s.role.value,
        created_at=now,
        classification=label.classification.marking,
        caveats=label.caveat_text(),
    )
    plain = {
        "decision": prep.decision,
        "rationale": prep.rationale,
        "options": prep.options or None,
        "level_rationale": prep.level_rationale or None,
        "correction_reason": prep.reason or None,
    }
    actions: list[tuple[MappaAction, dict[str, str | None], PreparedAction]] = []
    for i, a in enumerate(prep.actions):
        act = MappaAction(
            id=uuid.uuid4(),
            decision_id=row.id,
            case_id=case.id,
            position=i,
            owner_agency=a.owner.agency,
            owner_id=a.owner.id,
            due_on=a.due_on,
            created_at=now,
            classification=row.classification,
            caveats=row.caveats,
        )
        aplain: dict[str, str | None] = {"description": a.description}
        act.content_hash = signing.content_hash(action_content(act, aplain))
        actions.append((act, aplain, a))
    content = decision_content(
        row,
        plain,
        [d.id for d in prep.disclosures],
        [(a.id, a.content_hash) for a, _, _ in actions],
    )
    # Sign everything before anything is added: a signing failure leaves nothing to roll back.
    row.content_hash, row.signature, row.key_id = signing.sign(signer, "decision", content)
    breakouts = [
        (act, new_breakout(ctx, case, act, a.breakout, now)) for act, _, a in actions if a.breakout
    ]

    row.audit_seq = ctx.access.record_now(
        ctx.session,
        s,
        case_event(
            case,
            "mappa.decision.sign",
            Classification.parse(row.classification),
            row.id,
            detail={
                "content_hash": row.content_hash.hex(),
                "key_id": row.key_id,
                "signer": s.username,
                "supersedes": str(row.supersedes_id or ""),
            },
        ),
    )
    if prep.level is not None:
        change = set_level(
            ctx.session, ctx.access, s, case, prep.level, ctx.today, prep.level_rationale
        )
        row.level_change_id = change.id
    detail: dict[str, object] = {"meeting": str(prep.meeting.id), "actions": len(actions)}
    level = Classification.parse(row.classification)
    event = case_event(case, "mappa.decision.record", level, row.id, detail=detail)
    seal_new(ctx, case, Kind.DECISION, row, plain, event)
    ctx.session.flush()
    if prep.disclosures:  # an ordinary decision rests on none
        ctx.session.execute(
            insert(decision_disclosures),
            [{"decision_id": row.id, "disclosure_id": d.id} for d in prep.disclosures],
        )
    for act, aplain, _ in actions:
        detail = {"decision": str(row.id), "owner": str(act.owner_id)}
        event = case_event(case, "mappa.action.record", level, act.id, detail=detail)
        seal_new(ctx, case, Kind.ACTION, act, aplain, event)
    ctx.session.flush()
    from .actions import write_status

    for act, _, _ in actions:
        write_status(ctx, case, act, ActionState.OPEN, None)
    for _act, (bo, bplain) in breakouts:
        store_breakout(ctx, case, bo, bplain)
    ctx.session.flush()
    # owners are told (shareplatform/notifications/services.py), in this transaction
    assigned = [act for act, _, _ in actions]
    signal("shareplatform.actions-assigned").send(ctx, case=case, actions=assigned)
    return row


def new_breakout(
    ctx: Ctx, case: Case, action: MappaAction, prep: PreparedBreakout | None, now: object = None
) -> tuple[Breakout, dict[str, str | None]]:
    """A signed break-out row, not yet added to the session."""
    assert prep is not None
    bo = Breakout(
        id=uuid.uuid4(),
        action_id=action.id,
        case_id=case.id,
        approved_by_id=ctx.subject.user_id,
        approved_at=now or utcnow(),
        orcon_consent=prep.consent is not None,
        classification=prep.label.classification.marking,
        caveats=prep.label.caveat_text(),
    )
    plain: dict[str, str | None] = {
        "text": prep.text,
        "consent": json.dumps(prep.consent, sort_keys=True) if prep.consent else None,
    }
    bo.content_hash, bo.signature, bo.key_id = signing.sign(
        ctx.access.audit.signer, "breakout", breakout_content(bo, plain)
    )
    return bo, plain


def store_breakout(ctx: Ctx, case: Case, bo: Breakout, plain: dict[str, str | None]) -> Breakout:
    level = Classification.parse(bo.classification)
    signed = {"content_hash": bo.content_hash.hex(), "key_id": bo.key_id}
    bo.audit_seq = ctx.access.record_now(
        ctx.session,
        ctx.subject,
        case_event(
            case,
            "mappa.breakout.sign",
            level,
            bo.id,
            detail={**signed, "action": str(bo.action_id)},
        ),
    )
    released = {"action": str(bo.action_id), "orcon_consent": bo.orcon_consent}
    event = case_event(case, "mappa.breakout.release", level, bo.id, detail=released)
    seal_new(ctx, case, Kind.BREAKOUT, bo, plain, event)
    return bo
