"""What every service function works with (the session, the access layer and the acting user),
and what the pages may use of the running platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy.orm import Session

from .access.facts import Subject
from .access.kernel import AccessLayer
from .crypto.blind_index import BlindIndexer
from .crypto.service_secrets import ServiceSecrets
from .db import Database
from .domain.rules import DEFAULT_SETTINGS, Settings


@dataclass(frozen=True)
class Ctx:
    session: Session
    access: AccessLayer
    subject: Subject
    indexer: BlindIndexer
    today: date
    settings: Settings = DEFAULT_SETTINGS


class Watch(Protocol):
    def ensure_running(self) -> None: ...


class Services(Protocol):
    """What the web layer and the features' pages may use of the running platform (built by
    shareplatform/platform.py). Capabilities to write as the system or administer keys are not
    here: they go to the command line only."""

    @property
    def db(self) -> Database: ...

    @property
    def access(self) -> AccessLayer: ...

    @property
    def indexer(self) -> BlindIndexer: ...

    @property
    def service_secrets(self) -> ServiceSecrets: ...

    @property
    def key_watch(self) -> Watch: ...

    def keys_ready(self, session: Session) -> bool:
        """Is the key provider answering for every current KEK version? (for /readyz)"""
        ...
