"""Users, their vetting, sign-in state and server-side sessions."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto.attested import Attested
from ..db import Base, new_id, utcnow


class User(Attested, Base):
    __tablename__ = "users"
    # who the user is to the access layer, and how they prove it (shareplatform/crypto/attested.py)
    __facts__ = (
        "username",
        "agency",
        "role",
        "vetting",
        "vetting_expires",
        "nsd_unit",
        "ct_unit",
        "disabled_at",
        "password_hash",
        "totp_secret_sealed",
        "must_enrol",
        "must_change_password",
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    agency: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(32))
    vetting: Mapped[str] = mapped_column(String(8))
    vetting_expires: Mapped[date | None] = mapped_column(Date)
    nsd_unit: Mapped[str | None] = mapped_column(String(64))
    ct_unit: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    must_enrol: Mapped[bool] = mapped_column(Boolean, default=True)
    # set when a one-time recovery code was used: a new password comes before anything else
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSession(Attested, Base):
    """A server-side session. The cookie carries only a random id; its hash is stored."""

    __tablename__ = "user_sessions"
    __facts__ = ("user_id", "mfa_done", "created_at")  # a forged row cannot sign anyone in
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    mfa_done: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(200))


class LoginThrottle(Base):
    """Failed sign-in counters shared by every worker process (keyed by username or address)."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    count: Mapped[int] = mapped_column(Integer, default=0)


TOKEN_NAME_MAX = 80
KEY_NAME_MAX = 60


class ApiToken(Attested, Base):
    __tablename__ = "api_tokens"
    __facts__ = ("user_id", "scope", "token_hash", "expires_at", "revoked_at")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX))
    scope: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    # rate limiting, shared by every worker process (one row per token)
    window_start: Mapped[datetime | None]
    window_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_api_tokens_user_name", "user_id", "name"),)

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class RecoveryCode(Attested, Base):
    """A one-time code that lets a user choose a new password and enrol a new second factor.

    Only the SHA-256 of the code is kept (the code is 128 random bits, so a fast hash is enough);
    it works once, until `expires_at`, and issuing a new one revokes the old.
    """

    __tablename__ = "recovery_codes"
    # whose code it is and whether it may work: a row forged in the database opens nothing
    __facts__ = ("user_id", "code_hash", "issued_by", "approved_by", "expires_at")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class UserChangeRequest(Attested, Base):
    """A change to a user that needs a second administrator: applied only when approved."""

    __tablename__ = "user_change_requests"
    __facts__ = ("kind", "target_user_id", "payload", "requested_by")  # what the approver sees
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # create, update, recovery, reset_mfa, panel
    target_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    target_username: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # JSON: what to apply on approval
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(500))


class WebAuthnCredential(Attested, Base):
    """A security key or platform authenticator a user enrolled as a second factor
    (shareplatform/accounts/webauthn.py). Only the public key is kept; the sign count lets a
    cloned authenticator be noticed."""

    __tablename__ = "webauthn_credentials"
    # whose key it is and which key: a row forged in the database signs nobody in
    __facts__ = ("user_id", "credential_id", "public_key", "sign_count")
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)  # unsigned 32-bit in WebAuthn
    transports: Mapped[str] = mapped_column(String(200), default="")  # comma-separated hints
    nickname: Mapped[str] = mapped_column(String(KEY_NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class WebAuthnChallenge(Base):
    """The one outstanding WebAuthn challenge of a session, kept server-side (the cookie holds only
    a random id) and deleted when used, so a challenge answers one ceremony only."""

    __tablename__ = "webauthn_challenges"
    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # user_sessions.id_hash
    purpose: Mapped[str] = mapped_column(String(16))  # "register" or "sign-in"
    challenge: Mapped[bytes] = mapped_column(LargeBinary(64))
    expires_at: Mapped[datetime]
