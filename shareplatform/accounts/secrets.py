"""Authentication secrets at rest: password hashes (argon2id) and sealed TOTP secrets."""

from __future__ import annotations

import os
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    if not stored:
        _hasher.hash(password)  # same cost whether or not the account exists
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def seal_totp(service_key: bytes, user_id: uuid.UUID, secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(service_key).encrypt(nonce, secret.encode(), b"totp|" + user_id.bytes)


def open_totp(service_key: bytes, user_id: uuid.UUID, sealed: bytes) -> str | None:
    try:
        return (
            AESGCM(service_key).decrypt(sealed[:12], sealed[12:], b"totp|" + user_id.bytes).decode()
        )
    except (InvalidTag, ValueError):
        return None
