"""Personal API tokens: named, scoped, expiring, revocable, stored only as a SHA-256 hash.

The token text is shown once, at creation. A token authenticates its user and nothing more: every
request still builds the user's Subject afresh, so vetting expiry, team changes and disablement
apply at once, and a token never grants more than its user has now.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..access.kernel import AccessLayer
from ..audit.log import Event
from ..db import utcnow
from ..domain.errors import Conflict, InvalidValue, NotFound
from ..domain.labels import Classification
from .models import TOKEN_NAME_MAX, ApiToken, User

PREFIX = "spt_"  # lets secret scanners recognise a leaked token
MAX_DAYS = 365
DEFAULT_DAYS = 90
MAX_NAME = TOKEN_NAME_MAX


class Scope(enum.StrEnum):
    READ = "read"
    READ_WRITE = "read-write"

    @classmethod
    def parse(cls, value: object) -> Scope:
        text = str(value or "").strip().lower().replace("_", "-")
        for member in cls:
            if member.value == text:
                return member
        raise InvalidValue("scope", value, [s.value for s in cls])


@dataclass(frozen=True)
class TokenSummary:
    id: uuid.UUID
    name: str
    scope: str
    hint: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    active: bool


@dataclass(frozen=True)
class Authenticated:
    token_id: uuid.UUID
    user_id: uuid.UUID
    scope: Scope


class TokenRejected(Exception):
    """The token is unknown, expired, revoked, or its user is disabled (all answered alike).

    `token_id` and `why` are set when the token is known, so the caller can audit the refusal.
    """

    def __init__(self, token_id: uuid.UUID | None = None, why: str = "unknown token") -> None:
        self.token_id = token_id
        self.why = why
        super().__init__(why)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many requests: retry after {retry_after} s")


def hash_token(raw: str) -> bytes:
    return hashlib.sha256(raw.encode()).digest()


def _summary(t: ApiToken, now: datetime) -> TokenSummary:
    return TokenSummary(
        t.id,
        t.name,
        t.scope,
        t.hint,
        t.created_at,
        t.expires_at,
        t.revoked_at,
        t.last_used_at,
        t.active(now),
    )


def create_token(
    session: Session,
    access: AccessLayer,
    user: User,
    name: str,
    scope: str,
    days: int = DEFAULT_DAYS,
    *,
    by_system: bool = False,
) -> tuple[TokenSummary, str]:
    """Create a token; returns its summary and the token text, which is never shown again."""
    name = (name or "").strip()
    if not name:
        raise InvalidValue("name", name, why="give the token a name so you can recognise it later")
    if len(name) > MAX_NAME:
        raise InvalidValue(
            "name", name[:20] + "...", why=f"the name must be {MAX_NAME} characters or fewer"
        )
    parsed = Scope.parse(scope)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise InvalidValue("days", days, why=f"a token lasts between 1 and {MAX_DAYS} days")
    if user.disabled_at is not None:
        raise InvalidValue("user", user.username, why="the account is disabled")
    now = utcnow()
    clash = session.scalar(
        select(ApiToken.id).where(
            ApiToken.user_id == user.id,
            ApiToken.name == name,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
    )
    if clash is not None:
        raise Conflict("You already have an active token with that name: choose another name.")
    raw = PREFIX + secrets.token_urlsafe(32)  # 32 random bytes
    token = ApiToken(
        id=uuid.uuid4(),
        user_id=user.id,
        name=name,
        scope=parsed.value,
        token_hash=hash_token(raw),
        hint=raw[: len(PREFIX) + 6],
        created_at=now,
        expires_at=now + timedelta(days=days),
        window_count=0,
    )
    session.add(token)
    about: dict[str, object] = {"scope": parsed.value, "days": days}
    _audit_change(session, access, user, token, "token.create", by_system, about)
    session.flush()
    return _summary(token, now), raw


def list_tokens(session: Session, user_id: uuid.UUID) -> list[TokenSummary]:
    now = utcnow()
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
    )
    return [_summary(t, now) for t in rows]


def revoke_token(
    session: Session,
    access: AccessLayer,
    user: User,
    token_id: uuid.UUID | str,
    *,
    by_system: bool = False,
) -> TokenSummary:
    """Revoke one of the user's tokens (someone else's token is 'not found', like an absent one)."""
    try:
        tid = token_id if isinstance(token_id, uuid.UUID) else uuid.UUID(str(token_id))
    except ValueError:
        raise NotFound("token") from None
    token = session.get(ApiToken, tid)
    if token is None or token.user_id != user.id:
        raise NotFound("token")
    now = utcnow()
    if token.revoked_at is None:
        token.revoked_at = now
        _audit_change(session, access, user, token, "token.revoke", by_system)
    session.flush()
    return _summary(token, now)


def _audit_change(
    session: Session,
    access: AccessLayer,
    user: User,
    token: ApiToken,
    action: str,
    by_system: bool,
    about: dict[str, object] | None = None,
) -> None:
    """Audit a change to one of `user`'s tokens: as the user from the web page, as "system" from
    the command line (`by_system`)."""
    subject = None if by_system else access.subject(session, user)
    access.record(
        session,
        subject,
        Event(
            action=action,
            object_type="token",
            outcome="done",
            label=Classification.OFFICIAL,
            object_id=str(token.id),
            detail={"user": user.username, **(about or {})},
        ),
    )


def authenticate(
    session: Session,
    access: AccessLayer,
    raw: str,
    *,
    rate_limit: int = 0,
    window_seconds: int = 60,
) -> Authenticated:
    """Check a presented token; count it against the token's rate limit (0: no limit)."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        raise TokenRejected()
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None:
        raise TokenRejected()
    now = utcnow()
    user = session.get(User, token.user_id)
    problem = (
        "failed its integrity check"  # a token row forged or edited in the database
        if not token.facts_intact
        else "revoked"
        if token.revoked_at is not None
        else "expired"
        if token.expires_at <= now
        else "user disabled"
        if user is None or user.disabled_at is not None
        else ""
    )
    if problem:
        raise TokenRejected(token.id, problem)
    if rate_limit:
        _count(session, token, now, rate_limit, window_seconds)
    token.last_used_at = now
    return Authenticated(token.id, token.user_id, Scope(token.scope))


def audit_rejected(session: Session, access: AccessLayer, rejected: TokenRejected) -> None:
    """Audit a refused known token (unknown strings are not audited: anyone could flood the log)."""
    if rejected.token_id is not None:
        access.record(
            session,
            None,
            Event(
                action="api.auth",
                object_type="token",
                outcome="deny",
                label=Classification.OFFICIAL,
                object_id=str(rejected.token_id),
                reason=rejected.why,
            ),
        )


def _count(
    session: Session, token: ApiToken, now: datetime, limit: int, window_seconds: int
) -> None:
    window = timedelta(seconds=window_seconds)
    start = token.window_start
    if start is None or now - start >= window:
        token.window_start, token.window_count = now, 1
        return
    # one UPDATE, so concurrent workers cannot both read the same count
    count = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id)
        .values(window_count=ApiToken.window_count + 1)
        .returning(ApiToken.window_count)
    ).scalar_one()
    if count > limit:
        raise RateLimited(max(1, int((start + window - now).total_seconds()) + 1))


def revoke_all(session: Session, user_id: uuid.UUID, now: datetime | None = None) -> int:
    """Revoke every live token of a user (a reset, sign-out everywhere or disabling); returns how
    many. The caller audits the event that caused it, with this count."""
    live = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in live:  # through the ORM: revocation is a stamped fact
        token.revoked_at = now or utcnow()
    return len(live)
