"""The access layer: the one path by which classified content leaves storage.

    request -> authenticate -> decision (policy + audit entry) -> grant -> decrypt -> read model

Only this module holds the vault's grant minter, so only it can open sealed fields. Every public
operation decides, writes its audit entry in the caller's transaction, and only then decrypts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.orm import Session

from ..audit.log import AuditLog, Event
from ..crypto.attested import take_failures
from ..crypto.sealed import Sealed
from ..db import utcnow
from ..domain.agencies import Agency, Role
from ..domain.errors import IntegrityFailure, NotFound, NotPermitted
from ..domain.labels import Classification, Label, dominates, highest
from ..domain.vetting import Vetting, VettingStatus
from .enforcer import PolicyEngine, Verdict
from .facts import Facts, Relation, Subject, SubjectFacts
from .sealing import Plain, Sealer, StoredKey, load_rows, with_stored_keys
from .store import current_version, verified_rules
from .subjects import SubjectLoader
from .vocabulary import Act, ObjectKind

log = logging.getLogger("shareplatform.integrity")

RELOAD_CHECK_SECONDS = 1.0  # a policy change reaches every worker within about a second
_READ, _NOTICE, _HIDE = 0, 1, 2  # what `read` does with a row


class Identified(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explanation: str
    rule: tuple[str, ...] = ()


@dataclass(frozen=True)
class AllowedClass:
    """Objects at `label`, of another agency under ORCON or not, authored by the subject or not,
    on which an act is allowed, for these kinds."""

    label: Classification
    orcon_foreign: bool
    author: bool
    kinds: tuple[str, ...]


@dataclass
class Opened:
    """The outcome of reading a set of rows: plaintext for those allowed, markers for others."""

    rows: list[tuple[Sealed, dict[str, str | None]]] = field(default_factory=list)
    notices: list[Sealed] = field(
        default_factory=list
    )  # withheld, with a "further information" marker
    hidden: int = 0  # withheld with no trace (never shown to the user; audited)
    highest: Classification = Classification.OFFICIAL
    # rows whose facts or content failed their integrity check: withheld with a marker
    failed: list[Sealed] = field(default_factory=list)


class AccessLayer:
    def __init__(self, sealer: Sealer, audit: AuditLog, subjects: SubjectLoader) -> None:
        self._sealer = sealer
        self._subjects = subjects
        self.audit = audit
        self._engine: PolicyEngine | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._class_cache: dict[tuple[object, ...], list[AllowedClass]] = {}

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
                    self._engine = PolicyEngine(verified_rules(session), version)
                engine = self._engine
        self._checked_at = now
        return engine

    def invalidate(self) -> None:
        self._checked_at = 0.0

    # -- subjects ---------------------------------------------------------------------------
    def subject(
        self, session: Session, user: uuid.UUID | Identified, today: date | None = None
    ) -> Subject:
        """The acting user as of `today` (a user id, or anything with an `id`)."""
        user_id = user if isinstance(user, uuid.UUID) else user.id
        subject = self._subjects(session, user_id, today or date.today())
        forged = take_failures(session)  # memberships or grants left out of the subject
        if forged:
            self.record(
                session,
                subject,
                Event(
                    action="integrity.fail",
                    object_type="facts",
                    outcome="fail",
                    reason="authorisation facts do not match their stamp",
                    detail={"rows": [f"{table}/{key}" for table, key in forged]},
                ),
            )
        return subject

    # -- decisions --------------------------------------------------------------------------
    def decide(self, session: Session, subject: Subject, facts: Facts, act: Act) -> Decision:
        verdict = self._verdict(session, subject, facts, act)
        return Decision(verdict.allowed, self.explain(subject, facts, act, verdict), verdict.rule)

    def _verdict(self, session: Session, subject: Subject, facts: Facts, act: Act) -> Verdict:
        sub = SubjectFacts(
            subject.role.value, subject.clearance.marking if subject.clearance else ""
        )
        verdict = self.engine(session).decide(sub, facts, act)
        # Kernel floor, whatever the policy says: nobody is granted anything above their clearance.
        if verdict.allowed and not _cleared(subject, facts.label):
            return Verdict(False, ("kernel", "clearance"))
        return verdict

    def can(
        self,
        session: Session,
        subject: Subject,
        kind: ObjectKind,
        act: Act,
        label: Classification = Classification.OFFICIAL,
    ) -> bool:
        """Route-level capability: does any line let this role do `act` on `kind` at all, on a
        case it is related to, as the object's author or not (a keyworker reads only the
        contacts they wrote: policies/policy.csv)?"""
        return any(
            self._verdict(session, subject, facts, act).allowed
            for facts in (
                Facts(kind, label, team=True, panel=True, oversight=True),
                Facts(kind, label, team=True, panel=True, oversight=True, author=True),
            )
        )

    def explain(self, subject: Subject, facts: Facts, act: Act, verdict: Verdict) -> str:
        from .explain import explain

        because = ""
        if verdict.rule and verdict.rule[-1] == "deny" and self._engine is not None:
            # the deciding line's reason (its policy.csv comment) reads better than the line
            because = next((r.reason for r in self._engine.rules if r.values == verdict.rule), "")
        return explain(subject, facts, act, verdict, because=because)

    # -- audit ------------------------------------------------------------------------------
    def record(self, session: Session, subject: Subject | None, event: Event) -> int:
        """Queue an audit entry in the caller's transaction (written as it commits); returns the
        entry's reference, which the grant that follows records."""
        return self.audit.append(
            session,
            subject.user_id if subject else None,
            subject.username if subject else "system",
            event,
        )

    def record_now(self, session: Session, subject: Subject | None, event: Event) -> int:
        """Write an audit entry at once and return its sequence number, for a record that cites
        it (a signed MAPPA decision). Holds the log's lock until the transaction commits."""
        return self.audit.append_now(
            session,
            subject.user_id if subject else None,
            subject.username if subject else "system",
            event,
        ).seq

    def require(
        self,
        session: Session,
        subject: Subject,
        facts: Facts,
        act: Act,
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
        act: Act = Act.READ,
        keys: dict[uuid.UUID, StoredKey] | None = None,
    ) -> Opened:
        """Decide each row (cached per fact class), audit once for the request, then decrypt.

        `keys`: the rows' wrapped data keys when the caller's query fetched them already
        (`read_selected`); otherwise they are fetched here.

        A row whose facts fail their check is never decided on (its facts are not to be believed):
        it is withheld with an integrity marker, and the failure audited and alerted."""
        result = Opened()
        allowed: list[Sealed] = []
        result.failed = [r for r in rows if not r.facts_intact]
        if result.failed:
            self.integrity_failures(session, subject, result.failed, event)
            rows = [r for r in rows if r.facts_intact]
        fates: dict[Facts, int] = {}  # rows share a handful of fact classes: decide each once
        for row in rows:
            facts = facts_of(row)
            fate = fates.get(facts)
            if fate is None:
                fate = fates[facts] = (
                    _READ
                    if self._verdict(session, subject, facts, act).allowed
                    else _NOTICE
                    if self._verdict(session, subject, facts, Act.NOTICE).allowed
                    else _HIDE
                )
            if fate == _READ:
                allowed.append(row)
            elif fate == _NOTICE:
                result.notices.append(row)
            else:
                result.hidden += 1
        # a crypto-shredded row is gone for good: leave it out rather than fail the whole listing
        if keys is None:
            keys = self._sealer.data_keys(session, {r.data_key_id for r in allowed})
        shredded = [r for r in allowed if keys[r.data_key_id].wrapped is None]
        if shredded:
            allowed = [r for r in allowed if keys[r.data_key_id].wrapped is not None]
            result.hidden += len(shredded)
        result.highest = _highest_of(allowed)
        shown = [str(r.id) for r in allowed]
        detail = {
            "shown": shown,
            "noticed": [str(r.id) for r in result.notices],
            "withheld": result.hidden,
        }
        if shredded:
            detail["shredded"] = [str(r.id) for r in shredded]
        outcome = "allow" if allowed or not rows else "deny"
        # the entry carries the highest label among everything the request touched
        seq = self.record(session, subject, _with(event, outcome, "", _highest_of(rows), detail))
        opened = self._open(subject, session, allowed, seq, keys, shown)
        broken = [row for row, plain in zip(allowed, opened, strict=True) if plain is None]
        if broken:  # content that does not open under its binding: tampered ciphertext or label
            self.integrity_failures(session, subject, broken, event)
            result.failed += broken
        result.rows = [
            (row, plain) for row, plain in zip(allowed, opened, strict=True) if plain is not None
        ]
        return result

    def read_selected(
        self,
        session: Session,
        subject: Subject,
        stmt: Select[Any],
        facts_of: Callable[[Sealed], Facts],
        event: Event,
        act: Act = Act.READ,
    ) -> tuple[list[Sealed], Opened]:
        """Run `stmt` (a select of one sealed model, filtered and ordered by the caller) as one
        Core query that also fetches each row's wrapped data key, then `read` the rows. Returns
        the rows in the query's order (read-only `LoadedRow`s with the model's attributes, not ORM
        objects) and what was opened of them."""
        rows, keys = load_rows(session, stmt, stmt.column_descriptions[0]["entity"])
        return rows, self.read(session, subject, rows, facts_of, event, act, keys)

    def load_for_reading(
        self, session: Session, stmt: Select[*tuple[Any, ...]]
    ) -> tuple[list[Any], dict[uuid.UUID, StoredKey]]:
        """Run `stmt`, whose first column is a sealed model, with each row's wrapped data key
        fetched in the same query (one statement instead of two), for `read` or `read_one`.
        Returns the rows as the statement gives them (the entity alone when it selects nothing
        else) and the keys by id. Wrapped keys open nothing without a grant."""
        model = stmt.column_descriptions[0]["entity"]
        width = len(stmt.column_descriptions)
        rows: list[Any] = []
        keys: dict[uuid.UUID, StoredKey] = {}
        for found in session.execute(with_stored_keys(stmt, model)):
            keys[found[0].data_key_id] = StoredKey(*found[width:])
            rows.append(found[0] if width == 1 else tuple(found[:width]))
        return rows, keys

    def integrity_failures(
        self, session: Session, subject: Subject | None, rows: Sequence[Sealed], event: Event
    ) -> None:
        """Audit (and log as an alert) rows withheld because they failed their integrity check."""
        ids = [str(r.id) for r in rows]
        log.error("integrity check failed for %s %s", rows[0].__tablename__, ", ".join(ids))  # type: ignore[attr-defined]
        self.record(
            session,
            subject,
            Event(
                action="integrity.fail",
                object_type=event.object_type,
                outcome="fail",
                label=highest(Classification.parse(r.classification) for r in rows),
                object_id=ids[0] if len(ids) == 1 else "",
                case_id=event.case_id,
                reason="authorisation facts or content do not match their stamp",
                detail={"table": rows[0].__tablename__, "ids": ids},  # type: ignore[attr-defined]
            ),
        )

    def read_one(
        self,
        session: Session,
        subject: Subject,
        row: Sealed,
        facts: Facts,
        event: Event,
        act: Act = Act.READ,
        keys: dict[uuid.UUID, StoredKey] | None = None,
    ) -> dict[str, str | None]:
        """One row: allowed -> plaintext; denied -> NotPermitted or NotFound. `keys`: as for
        `read`.

        NotPermitted when the user may know the row exists, else NotFound; IntegrityFailure when
        its facts or content fail their check.
        """
        if not row.facts_intact:
            self.integrity_failures(session, subject, [row], event)
            raise IntegrityFailure(row.__tablename__, str(row.id))  # type: ignore[attr-defined]
        verdict = self._verdict(session, subject, facts, act)
        if not verdict.allowed:
            explanation = self.explain(subject, facts, act, verdict)
            self.record(session, subject, _with(event, "deny", explanation, facts.label))
            if self._verdict(session, subject, facts, Act.NOTICE).allowed:
                raise NotPermitted(
                    "Further information is held on this case. "
                    "Speak to your manager if you need it."
                )
            raise NotFound(event.object_type or "page")  # worded exactly as for an absent one
        if keys is None or row.data_key_id not in keys:
            keys = self._sealer.data_keys(session, {row.data_key_id})
        if keys[row.data_key_id].wrapped is None:  # crypto-shredded: gone for good, not tampered
            self.record(session, subject, _with(event, "deny", "shredded", facts.label))
            raise NotFound(event.object_type or "page")
        seq = self.record(session, subject, _with(event, "allow", "", facts.label))
        plain = self._open(subject, session, [row], seq, keys)[0]
        if plain is None:
            self.integrity_failures(session, subject, [row], event)
            raise IntegrityFailure(row.__tablename__, str(row.id))  # type: ignore[attr-defined]
        return plain

    def _open(
        self,
        subject: Subject,
        session: Session,
        rows: Sequence[Sealed],
        seq: int,
        keys: dict[uuid.UUID, StoredKey] | None = None,
        ids: list[str] | None = None,
    ) -> list[Plain | None]:
        for label in {row.classification for row in rows}:  # kernel floor, whatever the policy
            if not _cleared(subject, label):
                raise NotPermitted("clearance does not cover this material")
        return self._sealer.open(session, str(subject.user_id), rows, seq, keys, ids)

    # -- writing sealed rows ------------------------------------------------------------------
    def write(
        self,
        session: Session,
        subject: Subject,
        row: Sealed,
        plaintext: dict[str, str | None],
        facts: Facts,
        event: Event,
        act: Act = Act.WRITE,
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
        self._sealer.seal_rows(session, str(subject.user_id), [(row, plaintext)], seq)
        return row

    # -- classes of allowed objects, for query filters ------------------------------------------
    def allowed_classes(
        self,
        session: Session,
        subject: Subject,
        rel: Relation,
        act: Act,
        kinds: Sequence[ObjectKind],
    ) -> list[AllowedClass]:
        """Every (label, ORCON-foreign, authored) class of objects of `kinds` on which `act` is
        allowed, with the kinds it is allowed for, given the subject's relation to the case.

        Decisions vary only by kind, label, ORCON-foreign and authorship once the relation is
        fixed, so a handful of cached decisions become one WHERE clause in the feature that owns
        the table (e.g. shareplatform/records/visibility.py): no per-row loop. Cached per policy
        version.
        """
        engine = self.engine(session)
        sub = SubjectFacts(
            subject.role.value, subject.clearance.marking if subject.clearance else ""
        )
        key = (engine.version, sub, rel.flags, act, tuple(kinds))
        cached = self._class_cache.get(key)
        if cached is not None:
            return cached
        out = []
        for label in Classification:
            for orcon in (False, True):
                for author in (False, True):
                    allowed = tuple(
                        kind
                        for kind in kinds
                        if self._verdict(
                            session,
                            subject,
                            Facts.on(
                                kind,
                                Classification.parse(label.marking),
                                rel,
                                author=author,
                                orcon_foreign=orcon,
                            ),
                            act,
                        ).allowed
                    )
                    if allowed:
                        out.append(AllowedClass(label, orcon, author, allowed))
        if len(self._class_cache) > 10_000:
            self._class_cache.clear()
        self._class_cache[key] = out
        return out


def _highest_of(rows: Sequence[Sealed]) -> Classification:
    return highest(Classification.parse(label) for label in {r.classification for r in rows})


def _cleared(subject: Subject, label: Classification | str) -> bool:
    return subject.clearance is not None and dominates(
        subject.clearance, Classification.parse(label)
    )


def _with(
    event: Event,
    outcome: str,
    reason: str,
    label: Classification,
    detail: dict[str, object] | None = None,
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
