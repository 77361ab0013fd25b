"""Security keys and platform authenticators (WebAuthn) as a second factor beside TOTP.

A user adds keys from their account page, after confirming with a code from their authenticator
app (a stolen session alone cannot add a key); at sign-in, after the password, a key answers
instead of a code. The library py_webauthn checks every signature; this module keeps:

- challenges server-side, one per session, deleted when used (`webauthn_challenges`): a response
  answers one ceremony only, and only for the session that asked;
- only the public key and the sign count (`webauthn_credentials`, attested: a key forged in the
  database signs nobody in); a count that does not rise is refused as a possible clone;
- an audit entry for every key added, refused, used or removed; failed uses count as failed
  sign-ins (lockout and address throttling apply, shareplatform/accounts/auth.py).

Recovery (shareplatform/accounts/recovery.py) and the second-factor reset
(shareplatform/accounts/admin.py) remove every key with the TOTP secret (`remove_all`).

No Flask here: the web layer passes the session, the relying party, the client address and clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..access.kernel import AccessLayer
from ..crypto.service_secrets import ServiceSecrets
from ..db import utcnow
from . import auth
from .models import KEY_NAME_MAX, User, WebAuthnChallenge, WebAuthnCredential

CHALLENGE_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = 120_000
REGISTER, SIGN_IN = "register", "sign-in"
# what a malformed response from a browser raises inside the library, beside its own errors
MALFORMED = (WebAuthnException, ValueError, KeyError, TypeError, IndexError)


@dataclass(frozen=True)
class RelyingParty:
    """Who the keys are for: `id` is a domain (the origin's host or above), `origin` exact."""

    id: str
    origin: str
    name: str = auth.ISSUER


class KeyRefused(Exception):
    """A key step that cannot go on; the message is safe to show. Whatever was audited or counted
    before it was raised is kept: the caller commits."""


# -- keys -----------------------------------------------------------------------------------------
def keys_of(session: Session, user_id: uuid.UUID) -> list[WebAuthnCredential]:
    return list(
        session.scalars(
            select(WebAuthnCredential)
            .where(WebAuthnCredential.user_id == user_id)
            .order_by(WebAuthnCredential.created_at)
        )
    )


def usable_keys(session: Session, user_id: uuid.UUID) -> list[WebAuthnCredential]:
    """Keys whose facts verify: only these are offered or accepted at sign-in."""
    return [key for key in keys_of(session, user_id) if key.facts_intact]


def has_keys(session: Session, user_id: uuid.UUID) -> bool:
    return bool(usable_keys(session, user_id))


def remove_all(session: Session, user_id: uuid.UUID) -> int:
    """Every key of a user gone (recovery, second-factor reset); the caller audits the count."""
    keys = keys_of(session, user_id)
    for key in keys:
        session.delete(key)
    session.flush()
    return len(keys)


def _descriptor(key: WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in key.transports.split(",") if _transport(t)]
    return PublicKeyCredentialDescriptor(id=key.credential_id, transports=transports or None)


def _transport(value: str) -> bool:
    return value in {t.value for t in AuthenticatorTransport}


def _nickname(session: Session, user_id: uuid.UUID, nickname: str) -> str:
    name = " ".join((nickname or "").split())
    if not name:
        raise KeyRefused("Enter a name for your security key, for example 'Blue key'")
    if len(name) > KEY_NAME_MAX:
        raise KeyRefused(f"Use a name of {KEY_NAME_MAX} characters or fewer")
    if any(key.nickname.lower() == name.lower() for key in keys_of(session, user_id)):
        raise KeyRefused("You already have a security key with that name: choose another")
    return name


# -- challenges: server-side, one per session, used once ------------------------------------------
def _store_challenge(
    session: Session, session_hash: str, purpose: str, challenge: bytes, now: datetime
) -> None:
    """A new challenge replaces any the session still had."""
    session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.session_hash == session_hash))
    session.execute(
        insert(WebAuthnChallenge).values(
            session_hash=session_hash,
            purpose=purpose,
            challenge=challenge,
            expires_at=now + CHALLENGE_LIFETIME,
        )
    )


def _take_challenge(
    session: Session, session_hash: str, purpose: str, now: datetime
) -> bytes | None:
    """The session's outstanding challenge for `purpose`, deleted in the same step: a second
    response (or a concurrent one) finds nothing. Expired or other-purpose challenges die too."""
    row = session.execute(
        select(
            WebAuthnChallenge.challenge, WebAuthnChallenge.purpose, WebAuthnChallenge.expires_at
        ).where(WebAuthnChallenge.session_hash == session_hash)
    ).first()
    if row is None:
        return None
    claimed = session.execute(
        delete(WebAuthnChallenge).where(
            WebAuthnChallenge.session_hash == session_hash,
            WebAuthnChallenge.challenge == row.challenge,
        )
    ).rowcount  # type: ignore[attr-defined]
    fresh = row.purpose == purpose and row.expires_at > now
    return bytes(row.challenge) if claimed and fresh else None


# -- adding a key ---------------------------------------------------------------------------------
def begin_registration(
    session: Session,
    access: AccessLayer,
    settings: auth.AuthSettings,
    sealer: ServiceSecrets,
    rp: RelyingParty,
    active: auth.ActiveSession,
    nickname: str,
    code: str,
    address: str | None,
    now: datetime | None = None,
) -> str:
    """Options for navigator.credentials.create (JSON), once a current TOTP code confirms that
    the person at the keyboard holds the account's second factor. A wrong code counts as a failed
    sign-in."""
    now = now or utcnow()
    user = _signed_in_user(session, active)
    _nickname(session, user.id, nickname)  # refused before the code is used up
    # a locked account or a throttled address guesses no more codes here than at sign-in
    held = auth._locked_message(session, settings, user, user.username, now)
    held = held or auth.throttled(session, settings, address, now)
    if held:
        raise KeyRefused(held)
    step = auth.totp_step(sealer, user, code, now)
    if step is None:
        auth._fail(session, access, settings, user, user.username, address, "key.confirm", now)
        raise KeyRefused(auth.WRONG_CODE)
    user.totp_last_step = step  # the code is used up
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=user.username,
        user_id=user.id.bytes,
        user_display_name=user.display_name,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(key) for key in keys_of(session, user.id)],
    )
    _store_challenge(session, active.id_hash, REGISTER, options.challenge, now)
    return options_to_json(options)


def finish_registration(
    session: Session,
    access: AccessLayer,
    rp: RelyingParty,
    active: auth.ActiveSession,
    credential: str | dict[str, Any],
    nickname: str,
    now: datetime | None = None,
) -> WebAuthnCredential:
    """Check the authenticator's answer against this session's challenge and keep its public key."""
    now = now or utcnow()
    user = _signed_in_user(session, active)
    challenge = _take_challenge(session, active.id_hash, REGISTER, now)
    name = _nickname(session, user.id, nickname)
    if challenge is None:
        auth.audit_user(session, access, user, "mfa.key.add", "fail", "no outstanding challenge")
        raise KeyRefused("That took too long or was already used: add the key again")
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except MALFORMED as exc:
        auth.audit_user(session, access, user, "mfa.key.add", "fail", _why(exc))
        raise KeyRefused("Your security key's answer could not be checked: try again") from None
    taken = session.scalar(
        select(WebAuthnCredential.id).where(
            WebAuthnCredential.credential_id == verified.credential_id
        )
    )
    if taken is not None:
        auth.audit_user(session, access, user, "mfa.key.add", "fail", "key already registered")
        raise KeyRefused("That security key is already registered")
    transports = [t.value for t in parsed.response.transports or []]
    key = WebAuthnCredential(
        id=uuid.uuid4(),
        user_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(transports)[:200],
        nickname=name,
        created_at=now,
    )
    session.add(key)
    session.flush()
    detail: dict[str, object] = {"key": str(key.id), "nickname": name, "aaguid": verified.aaguid}
    detail |= {"transports": ",".join(transports), "user_verified": verified.user_verified}
    auth.audit_user(session, access, user, "mfa.key.add", "done", "", detail)
    return key


# -- signing in with a key ------------------------------------------------------------------------
def begin_authentication(
    session: Session, rp: RelyingParty, active: auth.ActiveSession, now: datetime | None = None
) -> str:
    """Options for navigator.credentials.get (JSON): the user's own keys only."""
    now = now or utcnow()
    user = _pending_user(session, active)
    keys = usable_keys(session, user.id)
    if not keys:
        raise KeyRefused("You have no security key: enter the code from your authenticator app")
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(key) for key in keys],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _store_challenge(session, active.id_hash, SIGN_IN, options.challenge, now)
    return options_to_json(options)


def finish_authentication(
    session: Session,
    access: AccessLayer,
    settings: auth.AuthSettings,
    rp: RelyingParty,
    active: auth.ActiveSession,
    credential: str | dict[str, Any],
    address: str | None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> auth.Outcome:
    """Check a key's signature over this session's challenge; success: a new, full session."""
    now = now or utcnow()
    try:
        user = _pending_user(session, active)
    except KeyRefused as exc:
        return auth.Outcome(False, str(exc))
    held = auth.locked_out(session, settings, user, active, now)
    if held:
        return held
    challenge = _take_challenge(session, active.id_hash, SIGN_IN, now)
    key, why = _verify_use(session, rp, user, credential, challenge)
    if key is None:
        message = "Your security key could not be checked: try again"
        return auth.second_factor_failed(
            session, access, settings, user, active, address, "key", now, message, why
        )
    key.last_used_at = now
    detail: dict[str, object] = {"key": str(key.id), "nickname": key.nickname}
    return auth._complete(session, access, user, active, None, user_agent, "signin.key", detail)


def _verify_use(
    session: Session,
    rp: RelyingParty,
    user: User,
    credential: str | dict[str, Any],
    challenge: bytes | None,
) -> tuple[WebAuthnCredential | None, str]:
    """The user's key that signed `challenge`, with its sign count moved on; or None and why."""
    if challenge is None:
        return None, "no outstanding challenge"
    try:
        parsed = parse_authentication_credential_json(credential)
    except MALFORMED as exc:
        return None, _why(exc)
    key = session.scalar(
        select(WebAuthnCredential).where(
            WebAuthnCredential.credential_id == parsed.raw_id,
            WebAuthnCredential.user_id == user.id,
        )
    )
    if key is None or not key.facts_intact:
        return None, "not one of the user's keys"
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count,
        )
    except MALFORMED as exc:
        return None, _why(exc)
    # the library refuses a count that did not rise; said again here so no upgrade loses it
    if (verified.new_sign_count or key.sign_count) and verified.new_sign_count <= key.sign_count:
        return None, "sign count did not rise: possible cloned key"
    key.sign_count = verified.new_sign_count
    return key, ""


# -- removing a key -------------------------------------------------------------------------------
def remove_key(
    session: Session, access: AccessLayer, active: auth.ActiveSession, key_id: uuid.UUID
) -> str:
    """Remove one of the signed-in user's keys, unless it is their only second factor left."""
    user = _signed_in_user(session, active)
    key = session.get(WebAuthnCredential, key_id)
    if key is None or key.user_id != user.id:
        raise KeyRefused("That security key is not one of yours")
    has_totp = user.totp_secret_sealed is not None and not user.must_enrol
    if not has_totp and len(keys_of(session, user.id)) <= 1:
        raise KeyRefused("You cannot remove your only second factor")
    name = key.nickname
    session.delete(key)
    session.flush()
    detail: dict[str, object] = {"key": str(key_id), "nickname": name}
    auth.audit_user(session, access, user, "mfa.key.remove", "done", "", detail)
    return name


# -- helpers --------------------------------------------------------------------------------------
def _signed_in_user(session: Session, active: auth.ActiveSession) -> User:
    user = session.get(User, active.user_id)
    if user is None or not active.mfa_done:
        raise KeyRefused("Sign in again")
    return user


def _pending_user(session: Session, active: auth.ActiveSession) -> User:
    """The user of a session that has passed the password and still owes its second factor."""
    user = session.get(User, active.user_id)
    if (
        user is None
        or active.mfa_done
        or user.must_enrol
        or user.must_change_password
        or user.totp_secret_sealed is None
    ):
        raise KeyRefused("Sign in again")
    return user


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
