"""The audit viewer for auditors: filter, read, export (CSV) and verify the chain.

Each entry is itself labelled; an entry above what the auditor may read (AccessLayer.decide with
Facts("audit", entry.label)) shows only that an event happened at a time, never who, what or its
label. Filters other than time apply only to entries the auditor may read in full, so a filter
cannot be used to learn the detail of a redacted entry. Viewing and exporting are audited.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.facts import Facts
from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..audit.models import AuditEntry
from ..audit.verify import VerifyResult, verify
from ..audit.witness import FileWitness
from ..cases.models import Case
from ..context import Ctx
from ..domain.errors import InvalidValue
from ..domain.labels import Classification, highest

OUTCOMES = ("allow", "deny", "done", "fail")
PAGE = 100
EXPORT_MAX = 100_000
REDACTED = "An event was recorded here; its detail is above your clearance."


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


@dataclass
class Page:
    rows: list[Row]
    highest: Classification
    more: bool
    readable_labels: list[str]


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
            stmt = stmt.where(AuditEntry.actor == f.username.strip())
        if f.case:
            stmt = stmt.where(AuditEntry.case_id == _case_id(ctx.session, f.case))
        if f.outcome:
            stmt = stmt.where(AuditEntry.outcome == f.outcome)
        if f.label:
            stmt = stmt.where(AuditEntry.label == Classification.parse(f.label).marking)
    return stmt.order_by(AuditEntry.seq.desc())


def _row(e: AuditEntry, readable: list[str]) -> Row:
    if e.label not in readable:
        return Row(e.seq, e.at, True)
    return Row(
        e.seq,
        e.at,
        False,
        e.actor,
        e.action,
        e.object_type,
        e.object_id,
        e.case_id,
        e.label,
        e.outcome,
        e.reason,
        e.detail,
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
    rows = [_row(e, readable) for e in entries[:PAGE]]
    shown = highest(Classification.parse(r.label) for r in rows if not r.redacted)
    return Page(rows, shown, len(entries) > PAGE, readable)


def export_csv(ctx: Ctx, f: Filters) -> tuple[str, Classification, int]:
    """The filtered view as CSV, its highest label at top and bottom: (text, label, rows)."""
    _require(ctx, "export", "audit.export", f)
    readable = _readable(ctx)
    rows = [
        _row(e, readable) for e in ctx.session.scalars(_query(ctx, f, readable).limit(EXPORT_MAX))
    ]
    label = highest(Classification.parse(r.label) for r in rows if not r.redacted)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"# {label.marking}"])
    writer.writerow(
        [
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
        ]
    )
    for r in rows:
        if r.redacted:
            writer.writerow([r.seq, r.at.isoformat(), "", "", "", "", "", "", "", REDACTED, ""])
        else:
            writer.writerow(
                [
                    r.seq,
                    r.at.isoformat(),
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
            )
    writer.writerow([f"# {label.marking}"])
    return out.getvalue(), label, len(rows)


def chain_status(ctx: Ctx) -> VerifyResult:
    _require(ctx, "verify", "audit.verify")
    witness = ctx.access.audit.witness
    return verify(
        ctx.session,
        ctx.access.audit.signer.public_key,
        witness_path=witness.path if isinstance(witness, FileWitness) else None,
    )


def detail_of(row: Row) -> dict[str, object]:
    try:
        return json.loads(row.detail) if row.detail else {}
    except ValueError:
        return {}
