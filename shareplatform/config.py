"""One configuration object, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Config:
    DATABASE_URL: str = ""
    KEYS_DIR: str = ""
    # Production refuses to serve SECRET from file keys unless explicitly told to.
    PRODUCTION: bool = False
    ALLOW_FILE_KEYS_FOR_SECRET: bool = False
    # Key provider: "file" (KEYS_DIR) or "pkcs11" (an HSM token; the PIN only ever from the env).
    KEY_PROVIDER: str = "file"
    PKCS11_MODULE: str = "/usr/lib/softhsm/libsofthsm2.so"
    PKCS11_TOKEN: str = ""
    PKCS11_PIN: str = field(default="", repr=False)
    PKCS11_DEK_CACHE_SECONDS: float = 30.0  # unwrapped data keys kept briefly; 0 turns it off
    SESSION_IDLE_MINUTES: int = 15
    SESSION_ABSOLUTE_HOURS: int = 10
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_LOCKOUT_MINUTES: int = 15
    AUDIT_CHECKPOINT_EVERY: int = 1000
    AUDIT_CHECKPOINT_SECONDS: int = 300
    BREAK_GLASS_HOURS: int = 4
    # Each process re-reads the KEK versions this often, reports them (expiring after the TTL)
    # and forgets retired KEKs; 0 turns the background watch off.
    KEY_WATCH_SECONDS: float = 1.0
    KEY_WATCH_TTL_SECONDS: float = 30.0
    TESTING: bool = False
    WTF_CSRF_ENABLED: bool = True
    SESSION_COOKIE_SECURE: bool = False
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    API_RATE_LIMIT: int = 600  # API requests per token per window
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            DATABASE_URL=os.environ.get(
                "DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'shareplatform.db'}"
            ),
            KEYS_DIR=os.environ.get("SHAREPLATFORM_KEYS_DIR", str(ROOT / "keys")),
            PRODUCTION=_env_bool("SHAREPLATFORM_PRODUCTION", False),
            ALLOW_FILE_KEYS_FOR_SECRET=_env_bool("SHAREPLATFORM_ALLOW_FILE_KEYS_FOR_SECRET", False),
            KEY_PROVIDER=os.environ.get("SHAREPLATFORM_KEY_PROVIDER", "file").strip().lower(),
            PKCS11_MODULE=os.environ.get(
                "SHAREPLATFORM_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so"
            ),
            PKCS11_TOKEN=os.environ.get("SHAREPLATFORM_PKCS11_TOKEN", ""),
            PKCS11_PIN=os.environ.get("SHAREPLATFORM_PKCS11_PIN", ""),
            PKCS11_DEK_CACHE_SECONDS=float(
                os.environ.get("SHAREPLATFORM_PKCS11_DEK_CACHE_SECONDS", "30")
            ),
            SESSION_COOKIE_SECURE=_env_bool("SHAREPLATFORM_SECURE_COOKIES", False),
            API_RATE_LIMIT=int(os.environ.get("SHAREPLATFORM_API_RATE_LIMIT", "600")),
            KEY_WATCH_SECONDS=float(os.environ.get("SHAREPLATFORM_KEY_WATCH_SECONDS", "1")),
            KEY_WATCH_TTL_SECONDS=float(
                os.environ.get("SHAREPLATFORM_KEY_WATCH_TTL_SECONDS", "30")
            ),
        )

    def as_flask(self) -> dict[str, object]:
        # the HSM PIN stays out of the Flask config (and so out of any config dump)
        hidden = ("extra", "PKCS11_PIN")
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in hidden}
        out.update(self.extra)
        return out


@dataclass
class TestConfig(Config):
    TESTING: bool = True
    AUDIT_CHECKPOINT_EVERY: int = 50
    KEY_WATCH_SECONDS: float = 0.0  # tests refresh the watch themselves
