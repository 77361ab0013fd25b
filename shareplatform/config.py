"""One configuration object, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def default_witness(database_url: str) -> str:
    """Next to a SQLite database file; otherwise in the instance folder. Either way outside the
    database, though on the same machine: point SHAREPLATFORM_AUDIT_WITNESS elsewhere (another
    host's mount, or syslog) for a witness that the database's administrators cannot reach."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return database_url.removeprefix("sqlite:///") + ".audit-witness.jsonl"
    return str(ROOT / "instance" / "audit-witness.jsonl")


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
    # A signed checkpoint at the commit that reaches AUDIT_CHECKPOINT_EVERY entries since the last
    # one, that comes AUDIT_CHECKPOINT_SECONDS after it, or that makes a privileged change.
    AUDIT_CHECKPOINT_EVERY: int = 1000
    AUDIT_CHECKPOINT_SECONDS: float = 5
    # Where each committed checkpoint is copied outside the database: a JSON-lines file, or
    # "syslog:[/dev/log | HOST:PORT]"; "" keeps no witness (from_env always names one).
    AUDIT_WITNESS: str = ""
    BREAK_GLASS_HOURS: int = 4
    RESET_CODE_HOURS: int = 4  # how long an account recovery code works
    # Each process re-reads the KEK versions this often, reports them (expiring after the TTL)
    # and forgets retired KEKs; 0 turns the background watch off.
    KEY_WATCH_SECONDS: float = 1.0
    KEY_WATCH_TTL_SECONDS: float = 30.0
    TESTING: bool = False
    WTF_CSRF_ENABLED: bool = True
    SESSION_COOKIE_SECURE: bool = False
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    API_RATE_LIMIT: int = 600  # API requests per token per window
    # A policy change that removes access for more users than this needs a second administrator.
    POLICY_MAX_USERS_LOST: int = 10
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Config:
        url = os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'shareplatform.db'}")
        return cls(
            DATABASE_URL=url,
            KEYS_DIR=os.environ.get("SHAREPLATFORM_KEYS_DIR", str(ROOT / "keys")),
            AUDIT_WITNESS=os.environ.get("SHAREPLATFORM_AUDIT_WITNESS", "") or default_witness(url),
            AUDIT_CHECKPOINT_EVERY=int(
                os.environ.get("SHAREPLATFORM_AUDIT_CHECKPOINT_EVERY", "1000")
            ),
            AUDIT_CHECKPOINT_SECONDS=float(
                os.environ.get("SHAREPLATFORM_AUDIT_CHECKPOINT_SECONDS", "5")
            ),
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
            POLICY_MAX_USERS_LOST=int(os.environ.get("SHAREPLATFORM_POLICY_MAX_USERS_LOST", "10")),
            RESET_CODE_HOURS=int(os.environ.get("SHAREPLATFORM_RESET_CODE_HOURS", "4")),
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
