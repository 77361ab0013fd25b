"""This process's watch on the KEK versions: what it reports, and what it forgets.

Every running process (each gunicorn worker, on every node) keeps a heartbeat row in
`key_holders` naming the current KEK version of each level as it last saw it, with an expiry.
`keys retire` refuses a version that any unexpired row still names as current. When a version is
retired anywhere, the watch drops that KEK (and for an HSM, the data keys it unwrapped) from this
process's memory.

Which version wraps a new data key never depends on this watch: the writing transaction reads it
(shareplatform/crypto/keyring.py, version_for_write). The watch only reports and forgets.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db import utcnow
from . import keyring
from .keys import KeyProvider
from .models import KekState, KekVersion, KeyHolder

log = logging.getLogger(__name__)

Transaction = Callable[[], AbstractContextManager[Session]]
_GONE = (KekState.RETIRING.value, KekState.RETIRED.value)


class KeyWatch:
    def __init__(
        self,
        transaction: Transaction,
        provider: KeyProvider,
        interval: float = 1.0,
        ttl: float = 30.0,
    ) -> None:
        self._transaction = transaction
        self._provider = provider
        self.interval = interval
        self.ttl = timedelta(seconds=ttl)
        self._pid = 0
        self._process = ""
        self._reported: dict[str, int] | None = None
        self._next_report = utcnow()
        self._forgotten: set[tuple[str, int]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_pid = 0
        self._lock = threading.Lock()

    @property
    def process(self) -> str:
        if self._pid != os.getpid():  # a forked child is a new holder
            self._pid = os.getpid()
            self._process = f"{socket.gethostname()}:{self._pid}:{uuid.uuid4().hex[:8]}"
            self._reported = None
        return self._process

    def refresh(self) -> dict[str, int]:
        """Read the KEK states; forget retired KEKs; report this process's view when it changed
        or its report is a third of the way to expiry. Returns the current versions."""
        with self._lock, self._transaction() as session:
            rows = session.execute(select(KekVersion.level, KekVersion.version, KekVersion.state))
            current: dict[str, int] = {}
            for level, version, state in rows:
                if state == KekState.CURRENT:
                    current[level] = version
                elif state in _GONE and (level, version) not in self._forgotten:
                    self._provider.forget(level, version)
                    self._forgotten.add((level, version))
            now = utcnow()
            process = self.process
            if current != self._reported or now >= self._next_report:
                session.merge(
                    KeyHolder(
                        process=process,
                        host=socket.gethostname()[:120],
                        pid=os.getpid(),
                        current=keyring.format_current(current),
                        seen_at=now,
                        expires_at=now + self.ttl,
                    )
                )
                # reports of processes that died long ago
                session.execute(
                    delete(KeyHolder).where(KeyHolder.expires_at < now - timedelta(hours=1))
                )
                self._reported = current
                self._next_report = now + self.ttl / 3
        return current

    # -- the background thread ------------------------------------------------------------------
    def ensure_running(self) -> None:
        """Start the watch in this process (again after a fork: threads do not survive one)."""
        if self.interval <= 0:
            return
        if self._thread_pid != os.getpid():
            # a forked child has no thread, and a lock held at the fork would never be released
            self._lock = threading.Lock()
            self._thread = None
            self._thread_pid = os.getpid()
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="shareplatform-keywatch", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception as exc:  # the database may be briefly away; try again next tick
                log.warning("key watch could not refresh: %s", exc)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        """Stop the thread and withdraw this process's report."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            thread.join(timeout=5)
        if self._reported is None:
            return
        try:
            with self._transaction() as session:
                session.execute(delete(KeyHolder).where(KeyHolder.process == self.process))
        except Exception as exc:  # shutting down: its report simply expires
            log.warning("key watch could not withdraw its report: %s", exc)
        self._reported = None
