"""How the access layer learns who is acting: a loader supplied at start-up by the composition
root (shareplatform/platform.py), so that the kernel needs nothing from the feature packages that
hold users, case teams and emergency-access grants."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Protocol

from sqlalchemy.orm import Session

from .facts import Subject


class SubjectLoader(Protocol):
    def __call__(self, session: Session, user_id: uuid.UUID, today: date) -> Subject:
        """The user as of `today`, with their current team, panel and break-glass cases.

        Raises LookupError for an unknown user."""
        ...
