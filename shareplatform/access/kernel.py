"""The access layer: the one path by which classified content leaves storage.

    request -> authenticate -> decision (policy + audit entry) -> grant -> decrypt -> read model

Only this module holds the vault's grant minter, so only it can open sealed fields. Every public
operation decides, writes its audit entry in the caller's transaction, and only then decrypts.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from ..audit.log import AuditLog, Event
from ..crypto import keyring
from ..crypto.envelope import Binding
from ..crypto.models import DataKey
from ..crypto.vault import SealedField, Vault
from ..db import utcnow
from ..domain.agencies import Agency, Role
from ..domain.errors import NotFound, NotPermitted
from ..domain.labels import Classification, Label, dominates, highest
from ..domain.vetting import Vetting, VettingStatus
from ..sealed import Sealed, plain_name
from .enforcer import PolicyEngine, Verdict
from .facts import CaseRef, Facts, Subject, SubjectFacts, relation
from .store import current_version, load_rules

RELOAD_CHECK_SECONDS = 1.0  # a policy change reaches every worker within ~1 s (goal: 2 s)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explanation: str
    rule: tuple[str, ...] = ()


@dataclass
class Opened:
    """The outcome of reading a set of rows: plaintext for those allowed, markers for others."""

    rows: list[tuple[Sealed, dict[str, str | None]]] = field(default_factory=list)
    notices: list[Sealed] = field(
        default_factory=list
    )  # withheld, with a "further information" marker
    hidden: int = 0  # withheld with no trace (never shown to the user; audited)
    highest: Classification = Classification.OFFICIAL


class AccessLayer:
    def __init__(self, vault: Vault, audit: AuditLog) -> None:
        self._vault = vault
        self._minter = vault.take_minter()
        self.audit = audit
        self._engine: PolicyEngine | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._class_cache: dict[
            tuple[object, ...], list[tuple[Classification, bool, bool, list[str]]]
        ] = {}

    # -- policy -----------------------------------------------------------------------------
    def engine(self, session: Session) -> PolicyEngine:
        now = time.monotonic()
        engine = self._engine
        if engine is not None and now - self._checked_at < RELOAD_CHECK_SECONDS:
            return engine
        version = current_version(session)
        if engine is None or engine.version != version:
            with self._lock:
                if self._engine is None or self._engine.version != version:
                    self._engine = PolicyEngine(load_rules(session), version)
                engine = self._engine
        self._checked_at = now
        return engine

    def invalidate(self) -> None:
        self._checked_at = 0.0

    # -- subjects ---------------------------------------------------------------------------
    @staticmethod
    def subject(session: Session, user: object, today: date | None = None) -> Subject:
        from .subjects import load_subject

        return load_subject(session, user, today or date.today())  # type: ignore[arg-type]

    # -- decisions --------------------------------------------------------------------------
    def decide(self, session: Session, subject: Subject, facts: Facts, act: str) -> Decision:
        verdict = self._verdict(session, subject, facts, act)
        return Decision(verdict.allowed, self.explain(subject, facts, act, verdict), verdict.rule)

    def _verdict(self, session: Session, subject: Subject, facts: Facts, act: str) -> Verdict:
        sub = SubjectFacts(
            subject.role.value, subject.clearance.marking if subject.clearance else ""
        )
        verdict = self.engine(session).decide(sub, facts, act)
        # Kernel floor, whatever the policy says: nobody is granted anything above their clearance.
        if verdict.allowed and not _cleared(subject, facts.label):
            return Verdict(False, ("kernel", "clearance"))
        return verdict

    def can(
        self, session: Session, subject: Subject, kind: str, act: str, label: str = "OFFICIAL"
    ) -> bool:
        """Route-level capability: does any line let this role do `act` on `kind` at all?"""
        facts = Facts(kind, label, team=True, panel=True, oversight=True)
        return self._verdict(session, subject, facts, act).allowed

    def explain(self, subject: Subject, facts: Facts, act: str, verdict: Verdict) -> str:
        from .explain import explain

        because = ""
        if verdict.rule and verdict.rule[-1] == "deny" and self._engine is not None:
            # the deciding line's reason (its policy.csv comment) reads better than the line
            because = next((r.reason for r in self._engine.rules if r.values == verdict.rule), "")
        return explain(subject, facts, act, verdict, because=because)

    # -- audit ------------------------------------------------------------------------------
    def record(self, session: Session, subject: Subject | None, event: Event) -> int:
        entry = self.audit.append(
            session,
            subject.user_id if subject else None,
            subject.username if subject else "system",
            event,
        )
        return entry.seq

    def require(
        self,
        session: Session,
        subject: Subject,
        facts: Facts,
        act: str,
        event: Event,
        hide: bool = True,
    ) -> Decision:
        """Decide and audit one action; raise when denied.

        Raises NotFound when `hide`, so as not to reveal.
        """
        decision = self.decide(session, subject, facts, act)
        outcome = "allow" if decision.allowed else "deny"
        self.record(session, subject, _with(event, outcome, decision.explanation, facts.label))
        if not decision.allowed:
            if hide:  # worded exactly as for an absent object of that type
                raise NotFound(event.object_type or "page")
            raise NotPermitted(decision.explanation)
        return decision

    # -- reading sealed rows ------------------------------------------------------------------
    def read(
        self,
        session: Session,
        subject: Subject,
        rows: Sequence[Sealed],
        facts_of: Callable[[Sealed], Facts],
        event: Event,
        act: str = "read",
    ) -> Opened:
        """Decide each row (cached per fact class), audit once for the request, then decrypt."""
        result = Opened()
        allowed: list[Sealed] = []
        for row in rows:
            facts = facts_of(row)
            if self._verdict(session, subject, facts, act).allowed:
                allowed.append(row)
            elif self._verdict(session, subject, facts, "notice").allowed:
                result.notices.append(row)
            else:
                result.hidden += 1
        # a crypto-shredded row is gone for good: leave it out rather than fail the whole listing
        keys = _data_keys(session, {r.data_key_id for r in allowed})
        shredded = [r for r in allowed if keys[r.data_key_id].wrapped is None]
        if shredded:
            allowed = [r for r in allowed if keys[r.data_key_id].wrapped is not None]
            result.hidden += len(shredded)
        shown_labels = [Classification.parse(r.classification) for r in allowed]
        result.highest = highest(shown_labels)
        detail = {
            "shown": [str(r.id) for r in allowed],
            "noticed": [str(r.id) for r in result.notices],
            "withheld": result.hidden,
        }
        if shredded:
            detail["shredded"] = [str(r.id) for r in shredded]
        outcome = "allow" if allowed or not rows else "deny"
        # the entry carries the highest label among everything the request touched
        touched = highest(Classification.parse(r.classification) for r in rows)
        seq = self.record(session, subject, _with(event, outcome, "", touched.marking, detail))
        result.rows = list(
            zip(allowed, self._open(session, subject, allowed, seq, keys), strict=True)
        )
        return result

    def read_one(
        self,
        session: Session,
        subject: Subject,
        row: Sealed,
        facts: Facts,
        event: Event,
        act: str = "read",
    ) -> dict[str, str | None]:
        """One row: allowed -> plaintext; denied -> NotPermitted or NotFound.

        NotPermitted when the user may know the row exists, else NotFound.
        """
        verdict = self._verdict(session, subject, facts, act)
        if not verdict.allowed:
            explanation = self.explain(subject, facts, act, verdict)
            self.record(session, subject, _with(event, "deny", explanation, facts.label))
            if self._verdict(session, subject, facts, "notice").allowed:
                raise NotPermitted(
                    "Further information is held on this case. "
                    "Speak to your manager if you need it."
                )
            raise NotFound(event.object_type or "page")  # worded exactly as for an absent one
        seq = self.record(session, subject, _with(event, "allow", "", facts.label))
        return self._open(session, subject, [row], seq)[0]

    def _open(
        self,
        session: Session,
        subject: Subject,
        rows: Sequence[Sealed],
        seq: int,
        keys: dict[uuid.UUID, _Key] | None = None,
    ) -> list[dict[str, str | None]]:
        if not rows:
            return []
        for row in rows:  # kernel floor, independent of policy
            if not _cleared(subject, row.classification):
                raise NotPermitted("clearance does not cover this material")
        if keys is None:
            keys = _data_keys(session, {r.data_key_id for r in rows})
        scope = frozenset((r.__tablename__, str(r.id)) for r in rows)  # type: ignore[attr-defined]
        grant = self._minter.mint(str(subject.user_id), "read", scope, seq)
        out = []
        for row in rows:
            key = keys[row.data_key_id]
            label = row.label.canonical()
            plain: dict[str, str | None] = {plain_name(c): None for c in row.__sealed__}
            items = [
                SealedField(
                    Binding(row.__tablename__, column, str(row.id), label, str(row.data_key_id)),  # type: ignore[attr-defined]
                    key.level,
                    key.kek_version,
                    key.wrapped,
                    getattr(row, column),
                )
                for column in row.__sealed__
                if getattr(row, column) is not None
            ]
            if items:  # one unwrap per row, however many sealed fields it has
                for item, text in zip(items, self._vault.open_row(grant, items), strict=True):
                    plain[plain_name(item.binding.column)] = text
            out.append(plain)
        return out

    # -- writing sealed rows ------------------------------------------------------------------
    def write(
        self,
        session: Session,
        subject: Subject,
        row: Sealed,
        plaintext: dict[str, str | None],
        facts: Facts,
        event: Event,
        act: str = "write",
    ) -> Sealed:
        """Decide, audit, then seal the row's fields under a new data key; add it to the session."""
        decision = self.decide(session, subject, facts, act)
        if not decision.allowed:
            self.record(session, subject, _with(event, "deny", decision.explanation, facts.label))
            raise NotPermitted(decision.explanation)
        if row.id is None:
            row.id = uuid.uuid4()
        seq = self.record(
            session,
            subject,
            _with(event, "done", "", facts.label, {**event.detail, "id": str(row.id)}),
        )
        self._seal(session, subject, row, plaintext, seq)
        return row

    def seal_system(
        self, session: Session, row: Sealed, plaintext: dict[str, str | None], event: Event
    ) -> Sealed:
        """Sealing by the platform itself (demo data, imports).

        Audited as the system, with no user decision.
        """
        if row.id is None:
            row.id = uuid.uuid4()
        seq = self.record(session, None, event)
        self._seal(session, None, row, plaintext, seq)
        return row

    def seal_many_system(
        self, session: Session, items: Iterable[tuple[Sealed, dict[str, str | None]]], event: Event
    ) -> int:
        """Bulk sealing for imports and generated data: one audit entry for the batch."""
        batch = list(items)
        for row, _ in batch:
            if row.id is None:
                row.id = uuid.uuid4()
        seq = self.record(
            session,
            None,
            _with(
                event,
                event.outcome,
                event.reason,
                event.label,
                {**event.detail, "count": len(batch)},
            ),
        )
        rows = [r for r, _ in batch]
        scope = frozenset((r.__tablename__, str(r.id)) for r in rows)  # type: ignore[attr-defined]
        grant = self._minter.mint("system", "write", scope, seq)
        for row, plain in batch:
            self._seal_with(session, grant, row, plain)
        return len(batch)

    def _seal(
        self,
        session: Session,
        subject: Subject | None,
        row: Sealed,
        plaintext: dict[str, str | None],
        seq: int,
    ) -> None:
        actor = str(subject.user_id) if subject else "system"
        grant = self._minter.mint(
            actor,
            "write",
            frozenset({(row.__tablename__, str(row.id))}),  # type: ignore[attr-defined]
            seq,
        )
        self._seal_with(session, grant, row, plaintext)

    def _seal_with(
        self, session: Session, grant: object, row: Sealed, plaintext: dict[str, str | None]
    ) -> None:
        key_row, sealed = self._seal_fields(
            session,
            grant,
            row.__tablename__,  # type: ignore[attr-defined]
            row.id,
            row.label,
            row.__sealed__,
            plaintext,
        )
        key = DataKey(**key_row)
        session.add(key)
        row.data_key = key
        for column, value in sealed.items():
            setattr(row, column, value)
        session.add(row)

    def _seal_fields(
        self,
        session: Session,
        grant: object,
        table: str,
        row_id: uuid.UUID,
        label: Label,
        columns: Sequence[str],
        plaintext: dict[str, str | None],
    ) -> tuple[dict[str, object], dict[str, bytes | None]]:
        level = label.classification.marking
        key = self._vault.new_data_key(label, keyring.version_for_write(session, level))
        canonical = label.canonical()
        sealed: dict[str, bytes | None] = {}
        for column in columns:
            value = plaintext.get(plain_name(column))
            if value is None:
                sealed[column] = None
                continue
            binding = Binding(table, column, str(row_id), canonical, str(key.key_id))
            sealed[column] = self._vault.seal(grant, key, binding, value)  # type: ignore[arg-type]
        key_row = {
            "id": key.key_id,
            "level": key.level,
            "kek_version": key.kek_version,
            "wrapped": key.wrapped,
            "created_at": utcnow(),
        }
        return key_row, sealed

    def seal_bulk_system(
        self,
        session: Session,
        model: type[Any],
        rows: list[dict[str, object]],
        plaintexts: list[dict[str, str | None]],
        event: Event,
    ) -> list[dict[str, object]]:
        """Seal many rows for a bulk insert (imports, generated data): one grant, one audit entry.

        Fills each row dict's sealed columns and data_key_id; returns the data key rows to
        insert first.
        """
        seq = self.record(
            session,
            None,
            _with(
                event,
                event.outcome,
                event.reason,
                event.label,
                {**event.detail, "count": len(rows)},
            ),
        )
        table = model.__tablename__  # type: ignore[attr-defined]
        scope = frozenset((table, str(r["id"])) for r in rows)
        grant = self._minter.mint("system", "write", scope, seq)
        key_rows = []
        for row, plain in zip(rows, plaintexts, strict=True):
            label = Label.of(row["classification"], str(row.get("caveats") or ""))
            key_row, sealed = self._seal_fields(
                session,
                grant,
                table,
                row["id"],  # type: ignore[arg-type]
                label,
                model.__sealed__,
                plain,
            )
            row.update(sealed)
            row["data_key_id"] = key_row["id"]
            key_rows.append(key_row)
        return key_rows

    # -- query filters ------------------------------------------------------------------------
    def record_filter(
        self, session: Session, subject: Subject, case: CaseRef, model: type[Any], act: str = "read"
    ):  # type: ignore[no-untyped-def]
        """SQL condition selecting exactly the records of `case` that `act` is allowed on.

        Decisions vary only by kind, label, ORCON-foreign and authorship once the case relation is
        fixed, so a handful of cached decisions become one WHERE clause: no per-row loop in SQL.
        """

        rel = relation(subject, case)
        # crypto-shredded rows are unreadable for ever: never listed or counted. The shredded keys
        # are few and have their own partial index, so this stays a small lookup at any scale.
        shredded = select(DataKey.id).where(DataKey.wrapped.is_(None))
        live = model.data_key_id.not_in(shredded)  # type: ignore[attr-defined]
        terms = []
        foreign = and_(
            model.caveats.contains("ORCON"),
            model.originating_agency != subject.agency.value,
            model.released_at.is_(None),
        )
        for label, orcon, author, types in self._allowed_classes(session, subject, rel, act):
            terms.append(
                and_(
                    model.classification == label.marking,
                    foreign if orcon else ~foreign,
                    (model.author_id == subject.user_id)
                    if author
                    else (model.author_id != subject.user_id),
                    model.record_type.in_(types),
                )
            )
        return and_(live, or_(*terms)) if terms else false()

    def _allowed_classes(
        self, session: Session, subject: Subject, rel: dict[str, Any], act: str
    ) -> list[tuple[Classification, bool, bool, list[str]]]:
        """(label, ORCON-foreign, authored, record types) classes `act` is allowed on.

        Cached per policy version.
        """
        from ..domain.cases import RecordType

        engine = self.engine(session)
        sub = SubjectFacts(
            subject.role.value, subject.clearance.marking if subject.clearance else ""
        )
        flags = tuple(bool(rel[k]) for k in ("team", "panel", "oversight", "break_glass"))
        key = (engine.version, sub, flags, act)
        cached = self._class_cache.get(key)
        if cached is not None:
            return cached
        out = []
        for label in Classification:
            for orcon in (False, True):
                for author in (False, True):
                    types = [
                        t.value
                        for t in RecordType
                        if self._verdict(
                            session,
                            subject,
                            Facts(
                                f"record/{t.value}",
                                label.marking,
                                orcon_foreign=orcon,
                                author=author,
                                **rel,
                            ),
                            act,
                        ).allowed
                    ]
                    if types:
                        out.append((label, orcon, author, types))
        if len(self._class_cache) > 10_000:
            self._class_cache.clear()
        self._class_cache[key] = out
        return out


def _cleared(subject: Subject, label: str) -> bool:
    return subject.clearance is not None and dominates(
        subject.clearance, Classification.parse(label)
    )


@dataclass(frozen=True, slots=True)
class _Key:
    level: str
    kek_version: int
    wrapped: bytes | None


def _data_keys(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, _Key]:
    """Wrapped data keys by id, as plain tuples (no ORM identity map work on the hot path)."""
    table = DataKey.__table__
    keys: dict[uuid.UUID, _Key] = {}
    id_list = list(ids)
    for start in range(0, len(id_list), 500):
        stmt = select(table.c.id, table.c.level, table.c.kek_version, table.c.wrapped).where(
            table.c.id.in_(id_list[start : start + 500])
        )
        for key_id, level, version, wrapped in session.execute(stmt):
            keys[key_id] = _Key(level, version, wrapped)
    return keys


def _with(
    event: Event, outcome: str, reason: str, label: str, detail: dict[str, object] | None = None
) -> Event:
    return Event(
        action=event.action,
        object_type=event.object_type,
        outcome=outcome,
        label=label,
        object_id=event.object_id,
        case_id=event.case_id,
        reason=reason or event.reason,
        detail=detail if detail is not None else event.detail,
    )


__all__ = [
    "AccessLayer",
    "Agency",
    "Decision",
    "Label",
    "Opened",
    "Role",
    "Vetting",
    "VettingStatus",
    "utcnow",
]
