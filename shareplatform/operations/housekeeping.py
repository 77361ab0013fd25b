"""Housekeeping for cron: delete rows that no longer do anything and that nothing refers to.

- sessions that ended, or went unused past any timeout, more than `session_days` ago;
- sign-in throttle counters whose window closed more than `throttle_hours` ago (a closed window
  counts nothing: shareplatform/accounts/auth.py `_count`);
- API tokens expired or revoked more than `token_days` ago;
- WebAuthn challenges past their expiry (an expired one is refused anyway:
  shareplatform/accounts/webauthn.py);
- forms kept after their session ended, past their expiry, and one-time form submission tokens
  a day old (shareplatform/records/writing.py).

No foreign key points at these tables, no authorisation fact of another row reads them, and
the audit log names sessions by user and tokens by id as text, so its entries and their proofs
are untouched. Users, recovery codes (a used one closes the first-start window of `users
create-admin`) and change requests are never deleted: audit entries and approvals refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_
from sqlalchemy.orm import Session

from ..accounts.models import ApiToken, LoginThrottle, UserSession, WebAuthnChallenge
from ..records import writing


@dataclass(frozen=True)
class Retention:
    session_days: int = 30
    throttle_hours: int = 24
    token_days: int = 90


@dataclass(frozen=True)
class Swept:
    sessions: int
    throttle: int
    tokens: int
    challenges: int = 0
    kept_forms: int = 0
    submissions: int = 0

    def as_detail(self) -> dict[str, object]:
        return {
            "sessions": self.sessions,
            "throttle": self.throttle,
            "tokens": self.tokens,
            "challenges": self.challenges,
            "kept_forms": self.kept_forms,
            "submissions": self.submissions,
        }


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def sweep(
    session: Session,
    now: datetime,
    keep: Retention,
    *,
    session_absolute_hours: int,
    lockout_minutes: int,
) -> Swept:
    """Delete what `keep` allows; never a session or counter that could still be in force."""
    session_cutoff = now - timedelta(days=keep.session_days)
    # a session never ended is certainly over once past its absolute lifetime
    outlived = now - timedelta(hours=session_absolute_hours)
    sessions = session.execute(
        delete(UserSession).where(
            or_(
                UserSession.ended_at < session_cutoff,
                and_(
                    UserSession.ended_at.is_(None),
                    UserSession.last_seen_at < session_cutoff,
                    UserSession.created_at < outlived,
                ),
            )
        )
    )
    closed = now - max(timedelta(hours=keep.throttle_hours), timedelta(minutes=lockout_minutes))
    throttle = session.execute(delete(LoginThrottle).where(LoginThrottle.window_start < closed))
    token_cutoff = now - timedelta(days=keep.token_days)
    tokens = session.execute(
        delete(ApiToken).where(
            or_(ApiToken.expires_at < token_cutoff, ApiToken.revoked_at < token_cutoff)
        )
    )
    challenges = session.execute(
        delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < now)
    )
    kept, submissions = writing.sweep(session, now)
    return Swept(
        _count(sessions), _count(throttle), _count(tokens), _count(challenges), kept, submissions
    )
