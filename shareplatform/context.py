"""What every service function works with: the session, the access layer and the acting user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from .access.facts import Subject
from .access.kernel import AccessLayer
from .crypto.blind_index import BlindIndexer
from .domain.rules import DEFAULT_SETTINGS, Settings


@dataclass(frozen=True)
class Ctx:
    session: Session
    access: AccessLayer
    subject: Subject
    indexer: BlindIndexer
    today: date
    settings: Settings = DEFAULT_SETTINGS
