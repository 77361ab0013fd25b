"""What the platform's service secret protects: users' second-factor (TOTP) secrets at rest, and
the key Flask signs its cookies with. The raw secret never leaves this object; callers get only
these operations.

TOTP secrets are sealed on the same envelope as every other sealed field
(shareplatform/crypto/envelope.py), bound to the user's row.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .envelope import Binding, IntegrityError, open_sealed, seal

_LEGACY_NONCE = 12


def _binding(user_id: uuid.UUID) -> Binding:
    return Binding("users", "totp_secret_sealed", str(user_id), "OFFICIAL-SENSITIVE", "service")


class ServiceSecrets:
    def __init__(self, service_key: bytes) -> None:
        self._key = service_key

    def __repr__(self) -> str:
        return "ServiceSecrets(<hidden>)"

    def seal_totp(self, user_id: uuid.UUID, secret: str) -> bytes:
        return seal(self._key, _binding(user_id), secret)

    def open_totp(self, user_id: uuid.UUID, sealed: bytes) -> str | None:
        """The user's TOTP secret, or None when it does not open (tampered, moved, wrong key)."""
        try:
            return open_sealed(self._key, _binding(user_id), sealed)
        except IntegrityError:
            return self._open_legacy(user_id, sealed)

    def _open_legacy(self, user_id: uuid.UUID, sealed: bytes) -> str | None:
        # secrets sealed before the envelope format: nonce || AES-GCM(secret, "totp|" || user id);
        # re-sealed in the envelope format the next time the user enrols
        try:
            aad = b"totp|" + user_id.bytes
            plain = AESGCM(self._key).decrypt(sealed[:_LEGACY_NONCE], sealed[_LEGACY_NONCE:], aad)
            return plain.decode()
        except (InvalidTag, ValueError):
            return None

    def flask_secret_key(self) -> bytes:
        """Flask's cookie-signing key, derived so that it is never stored or committed."""
        return hmac.new(self._key, b"flask-secret", hashlib.sha256).digest()
