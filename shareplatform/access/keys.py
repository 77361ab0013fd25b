"""Key administration: rotation, retirement and shredding, each step audited when it happens.

A capability built by the composition root (shareplatform/platform.py) and handed to the command
line only: no service, view or API handler can reach it.

Rotation finishes what it starts. It records its intent, creates the new KEK, switches the level's
current version (from then on the database refuses a data key wrapped under any other version),
and re-wraps every data key of the old versions, in batches, until none remains. Run again after
an interruption, it finishes what was started instead of making another version: a KEK created
by a run killed before the switch is adopted (its creation audited then, marked found on resume),
and each step is audited once however often the command is run.

Retirement is two-phase: a version no data key and no live process uses is marked `retiring`,
then destroyed in the provider, then marked `retired`. A crash anywhere leaves a state that
re-running `keys retire` completes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import faults
from ..audit.log import AuditLog, Event
from ..audit.models import AuditEntry
from ..crypto import keyring
from ..crypto.keys import KeyProblem, KeyProvider
from ..crypto.models import KekState
from ..db import utcnow
from ..domain.labels import Classification

Transaction = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Rotation:
    level: str
    version: int  # the current version once the rotation finished
    rewrapped: int
    resumed: bool  # True: an interrupted rotation was finished; no new version was made


class KeyAdmin:
    def __init__(self, transaction: Transaction, provider: KeyProvider, audit: AuditLog) -> None:
        self._transaction = transaction
        self._provider = provider
        self._audit = audit

    def _record(self, session: Session, event: Event) -> None:
        self._audit.append(session, None, "system", event)

    # -- status ---------------------------------------------------------------------------------
    def status(self) -> list[keyring.LevelStatus]:
        with self._transaction() as session:
            return keyring.status(session)

    # -- rotation -------------------------------------------------------------------------------
    def rotate(
        self, level: str, batch: int = 2000, progress: Callable[[int], None] | None = None
    ) -> Rotation:
        level = keyring.check_level(level)
        with self._transaction() as session:
            stale = keyring.stale_versions(session, level)
            if stale:
                version = keyring.current_versions(session)[level]
                self._record(
                    session,
                    _key_event(
                        "keys.rotate.resume",
                        level,
                        version,
                        {"stale": {str(v): n for v, n in sorted(stale.items())}},
                    ),
                )
        resumed = bool(stale)
        if not stale:
            version, resumed = self._new_current_version(level)
        rewrapped = self._rewrap_all(level, version, batch, progress)
        with self._transaction() as session:
            self._record(
                session,
                _key_event("keys.rotate.finish", level, version, {"rewrapped": rewrapped}),
            )
        return Rotation(level, version, rewrapped, resumed=resumed)

    def _new_current_version(self, level: str) -> tuple[int, bool]:
        """The new current version, and whether an interrupted run had started making it."""
        with self._transaction() as session:
            version = keyring.newest_recorded(session, level) + 1
            started = "keys.rotate.start" in self._key_history(session, level, version)
            made = self._provider.kek_versions(level)
            # The KEK of a rotation whose start is audited, killed before the switch, is adopted
            # and its creation audited now. Any other KEK the database never recorded is
            # destroyed: nothing was ever wrapped under it, and nobody audited its making.
            adopted = started and version in made and self._usable(level, version)
            orphans = [v for v in made if v >= version and not (adopted and v == version)]
            action = "keys.rotate.resume" if started else "keys.rotate.start"
            self._record(session, _key_event(action, level, version, {"discarded": orphans}))
        faults.point("keys.rotate.started")
        for orphan in orphans:
            self._provider.destroy_kek(level, orphan)
        faults.point("keys.rotate.before_kek")
        if not adopted:
            self._provider.create_kek(level, version)
        faults.point("keys.rotate.after_kek_created")
        with self._transaction() as session:
            # Audit entries are written at commit (shareplatform/audit/log.py), after the KEK row
            # is taken, by every writer and by this switch alike: the same order cannot deadlock.
            created: dict[str, object] = {"check_value": self._provider.check_value(level, version)}
            if adopted:
                created["found_on_resume"] = True
            self._record(session, _key_event("keys.kek.create", level, version, created))
            keyring.make_current(session, self._provider, level, version)
        faults.point("keys.rotate.after_switch")
        return version, started

    @staticmethod
    def _key_history(session: Session, level: str, version: int) -> list[str]:
        """The audited key actions on one KEK version, oldest first (an index seek on object)."""
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(
                    AuditEntry.object_id == f"{level}:v{version}",
                    AuditEntry.object_type == "key",
                )
                .order_by(AuditEntry.seq)
            )
        )

    def _usable(self, level: str, version: int) -> bool:
        try:
            self._provider.check_value(level, version)
        except KeyProblem:
            return False  # e.g. a key file cut short by the kill: discard it and make another
        return True

    def _rewrap_all(
        self, level: str, version: int, batch: int, progress: Callable[[int], None] | None
    ) -> int:
        total = 0
        while True:  # until no data key of any older version remains
            with self._transaction() as session:
                stale = keyring.versions_to_rewrap(session, level)
            if not stale:
                return total
            for from_version in stale:
                total = self._rewrap_version(level, from_version, version, batch, total, progress)

    def _rewrap_version(
        self,
        level: str,
        from_version: int,
        version: int,
        batch: int,
        total: int,
        progress: Callable[[int], None] | None,
    ) -> int:
        after: object | None = None
        while True:
            with self._transaction() as session:
                found = keyring.stale_keys(session, level, from_version, after, batch)
            # Unwrapped and wrapped with no transaction open: the write lock is taken only to
            # store, so a concurrent request waits for one short UPDATE at most.
            changes = keyring.rewrap_keys(self._provider, level, from_version, version, found.keys)
            if changes:
                with self._transaction() as session:
                    total += keyring.store_rewrapped(session, level, from_version, version, changes)
                faults.point("keys.rotate.batch")
                if progress:
                    progress(total)
            if len(found.keys) < batch:
                return total
            after = found.last

    # -- retirement -----------------------------------------------------------------------------
    def retire(self, level: str, version: int) -> bool:
        """Retire and destroy a KEK version. Returns True when this run completed a retirement
        that an earlier, interrupted run had started."""
        level = keyring.check_level(level)
        with self._transaction() as session:
            row = keyring.kek(session, level, version, lock=True)
            if row is None:
                raise KeyProblem(f"there is no KEK {level} v{version}")
            resumed = row.state == KekState.RETIRING
            if row.state == KekState.RETIRED:
                if version not in self._provider.kek_versions(level):
                    raise KeyProblem(f"KEK {level} v{version} is already retired and destroyed")
                resumed = True  # marked retired but the key survived: destroy it now
            elif row.state == KekState.CURRENT:
                raise KeyProblem(
                    f"KEK {level} v{version} is the current version: "
                    f"run `flask --app wsgi keys rotate --level {level}` before retiring it"
                )
            elif row.state == KekState.ACTIVE:
                self._check_unused(session, level, version)
                self._record(session, _key_event("keys.retire.start", level, version))
                keyring.mark(session, row, KekState.RETIRING)
        faults.point("keys.retire.after_mark")
        self._provider.destroy_kek(level, version)
        self._provider.forget(level, version)
        faults.point("keys.retire.after_destroy")
        with self._transaction() as session:
            row = keyring.kek(session, level, version, lock=True)
            assert row is not None
            if row.state != KekState.RETIRED:
                keyring.mark(session, row, KekState.RETIRED)
            self._record(
                session,
                _key_event("keys.retire.finish", level, version, {"resumed": resumed}),
            )
        return resumed

    @staticmethod
    def _check_unused(session: Session, level: str, version: int) -> None:
        in_use = keyring.key_counts(session, level).get((level, version), 0)
        if in_use:
            raise KeyProblem(
                f"KEK {level} v{version} still wraps {in_use} data keys: run "
                f"`flask --app wsgi keys rotate --level {level}` to finish re-wrapping them"
            )
        now = utcnow()
        holders = keyring.holders_of(session, level, version, now)
        if holders:
            wait = max(int((h.expires_at - now).total_seconds()) + 1 for h in holders)
            names = ", ".join(h.process for h in holders[:5])
            raise KeyProblem(
                f"{len(holders)} running process(es) last reported KEK {level} v{version} as "
                f"current ({names}). Running processes notice a rotation within seconds; a "
                f"stopped one's report expires within {wait} s. Try again then."
            )

    # -- shredding ------------------------------------------------------------------------------
    def shred(self, session: Session, data_key_id: object, event: Event) -> bool:
        """Destroy one data key in the caller's transaction, with the caller's audit event.

        One transaction: a kill before its commit leaves the key intact and nothing audited, so
        running the command again does it all. A key already shredded is left as it is and
        audited no second time (returns False)."""
        if not keyring.shred(session, data_key_id):
            return False
        self._record(session, event)
        faults.point("keys.shred.destroyed")  # before the commit: nothing of it survives a kill
        return True


def _key_event(
    action: str, level: str, version: int, detail: dict[str, object] | None = None
) -> Event:
    return Event(
        action=action,
        object_type="key",
        outcome="done",
        label=Classification.OFFICIAL,
        object_id=f"{level}:v{version}",
        detail={"level": level, "version": version, **(detail or {})},
    )
