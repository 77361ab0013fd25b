"""The audit viewer for auditors: filter, read, export (CSV) and verify the chain.

Each entry is itself labelled; an entry above what the auditor may read (AccessLayer.decide with
Facts("audit", entry.label)) shows only that an event happened at a time, never who, what or its
label. Filters other than time apply only to entries the auditor may read in full, so a filter
cannot be used to learn the detail of a redacted entry. Viewing and exporting are audited.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..access.facts import Facts
from ..access.vocabulary import Act, Kind
from ..accounts.models import User
from ..audit.chain import canonical_detail
from ..audit.log import Event
from ..audit.models import AuditEntry
from ..audit.verify import VerifyResult, verify
from ..audit.witness import FileWitness
from ..cases.models import Case
from ..context import Ctx
from ..domain.errors import InvalidValue
from ..domain.labels import Classification, highest
from ..web.csv_export import Cell, to_csv

OUTCOMES = ("allow", "deny", "done", "fail")
PAGE = 100
EXPORT_MAX = 100_000
REDACTED = "An event was recorded here; its detail is above your clearance."
# Written before anyone is identified, so the log's actor is "system" (shareplatform/accounts/
# auth.py); the viewer shows the person they name: the user, or the username that was typed.
SIGN_IN_ACTIONS = ("signin.", "signout")
NO_SUCH_ACCOUNT = "no such account"


@dataclass(frozen=True)
class Filters:
    username: str = ""
    case: str = ""  # case reference or id
    outcome: str = ""
    label: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @property
    def narrowing(self) -> bool:
        return bool(self.username or self.case or self.outcome or self.label)


@dataclass(frozen=True)
class Row:
    seq: int
    at: datetime
    redacted: bool
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    case_id: str = ""
    label: str = ""
    outcome: str = ""
    reason: str = ""
    detail: str = ""
    actor_note: str = ""  # e.g. the typed username names no account


@dataclass
class Page:
    rows: list[Row]
    highest: Classification
    more: bool
    readable_labels: list[str]


def readable_labels(ctx: Ctx) -> list[str]:
    """The labels of entries this auditor may read in full (the label filter's choices)."""
    return _readable(ctx)


def _readable(ctx: Ctx, act: str = "read") -> list[str]:
    return [
        c.marking
        for c in Classification
        if ctx.access.decide(
            ctx.session, ctx.subject, Facts(Kind.AUDIT, Classification.parse(c.marking)), Act(act)
        ).allowed
    ]


def _case_id(session: Session, case: str) -> str:
    text = case.strip()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        found = session.scalar(select(Case.id).where(Case.reference == text.upper()))
        if found is None:
            raise InvalidValue("case", case, why="no case with that reference") from None
        return str(found)


def _query(ctx: Ctx, f: Filters, readable: list[str]):
    if f.outcome and f.outcome not in OUTCOMES:
        raise InvalidValue("outcome", f.outcome, list(OUTCOMES))
    if f.label:
        label = Classification.parse(f.label).marking
        if label not in readable:
            raise InvalidValue(
                "label",
                f.label,
                readable,
                why="you may filter only by labels you are cleared to read",
            )
    stmt = select(AuditEntry)
    if f.since is not None:
        stmt = stmt.where(AuditEntry.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEntry.at <= f.until)
    if f.narrowing:  # filters on content apply to readable entries only
        stmt = stmt.where(AuditEntry.label.in_(readable))
        if f.username:
            stmt = stmt.where(_by_user(ctx.session, f.username.strip()))
        if f.case:
            stmt = stmt.where(AuditEntry.case_id == _case_id(ctx.session, f.case))
        if f.outcome:
            stmt = stmt.where(AuditEntry.outcome == f.outcome)
        if f.label:
            stmt = stmt.where(AuditEntry.label == Classification.parse(f.label).marking)
    return stmt.order_by(AuditEntry.seq.desc())


def _is_sign_in(e: AuditEntry) -> bool:
    return e.actor == "system" and e.actor_id is None and e.action.startswith(SIGN_IN_ACTIONS)


def _sign_in_entry():
    return and_(
        AuditEntry.actor == "system",
        or_(*(AuditEntry.action.startswith(a, autoescape=True) for a in SIGN_IN_ACTIONS)),
    )


def _by_user(session: Session, username: str):
    """Entries by this user, including their sign-ins (which name them, not as the actor)."""
    typed = canonical_detail({"username": username})[1:-1]  # "username":"..." as stored
    named = [AuditEntry.detail.contains(typed, autoescape=True)]
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is not None:
        named.append(AuditEntry.object_id == str(user_id))
    return or_(AuditEntry.actor == username, and_(_sign_in_entry(), or_(*named)))


def _sign_in_people(session: Session, entries: list[AuditEntry]) -> dict[int, tuple[str, str]]:
    """seq -> (who, note) for the sign-in entries among `entries`, in one query."""
    sign_ins = [e for e in entries if _is_sign_in(e)]
    ids: set[uuid.UUID] = set()
    for e in sign_ins:
        try:
            ids.add(uuid.UUID(e.object_id))
        except ValueError:
            continue
    query = select(User.id, User.username).where(User.id.in_(ids))
    names = {str(i): n for i, n in session.execute(query)} if ids else {}
    people: dict[int, tuple[str, str]] = {}
    for e in sign_ins:
        typed = str(_detail(e.detail).get("username") or "")
        if e.object_id in names:
            people[e.seq] = (names[e.object_id], "")
        elif typed:
            people[e.seq] = (typed, NO_SUCH_ACCOUNT)
    return people


def _detail(text: str) -> dict[str, object]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _rows(session: Session, entries: list[AuditEntry], readable: list[str]) -> list[Row]:
    people = _sign_in_people(session, [e for e in entries if e.label in readable])
    return [_row(e, readable, *people.get(e.seq, (e.actor, ""))) for e in entries]


def _row(e: AuditEntry, readable: list[str], actor: str, note: str = "") -> Row:
    if e.label not in readable:
        return Row(e.seq, e.at, True)
    return Row(
        e.seq,
        e.at,
        False,
        actor,
        e.action,
        e.object_type,
        e.object_id,
        e.case_id,
        e.label,
        e.outcome,
        e.reason,
        e.detail,
        note,
    )


def _require(ctx: Ctx, act: str, action: str, f: Filters | None = None) -> None:
    detail: dict[str, object] = {k: str(v) for k, v in (f.__dict__ if f else {}).items() if v}
    ctx.access.require(
        ctx.session,
        ctx.subject,
        Facts(Kind.AUDIT, Classification.OFFICIAL),
        Act(act),
        Event(
            action=action,
            object_type="audit",
            outcome="allow",
            label=Classification.OFFICIAL,
            detail=detail,
        ),
        hide=False,
    )


def search(ctx: Ctx, f: Filters, page: int = 1) -> Page:
    _require(ctx, "read", "audit.view", f)
    readable = _readable(ctx)
    stmt = _query(ctx, f, readable).offset((max(page, 1) - 1) * PAGE).limit(PAGE + 1)
    entries = list(ctx.session.scalars(stmt))
    rows = _rows(ctx.session, entries[:PAGE], readable)
    shown = highest(Classification.parse(r.label) for r in rows if not r.redacted)
    return Page(rows, shown, len(entries) > PAGE, readable)


def export_csv(ctx: Ctx, f: Filters) -> tuple[str, Classification, int]:
    """The filtered view as CSV, its highest label at top and bottom: (text, label, rows)."""
    _require(ctx, "export", "audit.export", f)
    readable = _readable(ctx)
    entries = list(ctx.session.scalars(_query(ctx, f, readable).limit(EXPORT_MAX)))
    rows = _rows(ctx.session, entries, readable)
    label = highest(Classification.parse(r.label) for r in rows if not r.redacted)
    marking: list[Cell] = [f"# {label.marking}"]
    table: list[list[Cell]] = [marking, list(EXPORT_COLUMNS)]
    table += [_export_row(r) for r in rows]
    table.append(marking)
    return to_csv(table), label, len(rows)


EXPORT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "label",
    "outcome",
    "reason",
    "detail",
)


def _export_row(r: Row) -> list[Cell]:
    if r.redacted:
        return [r.seq, r.at, "", "", "", "", "", "", "", REDACTED, ""]
    return [
        r.seq,
        r.at,
        r.actor,
        r.action,
        r.object_type,
        r.object_id,
        r.case_id,
        r.label,
        r.outcome,
        r.reason,
        r.detail,
    ]


def chain_status(ctx: Ctx) -> VerifyResult:
    _require(ctx, "verify", "audit.verify")
    witness = ctx.access.audit.witness
    return verify(
        ctx.session,
        ctx.access.audit.signer.public_key,
        witness_path=witness.path if isinstance(witness, FileWitness) else None,
    )


def detail_of(row: Row) -> dict[str, object]:
    return _detail(row.detail)
