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
    SESSION_IDLE_MINUTES: int = 15
    SESSION_ABSOLUTE_HOURS: int = 10
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_LOCKOUT_MINUTES: int = 15
    AUDIT_CHECKPOINT_EVERY: int = 1000
    AUDIT_CHECKPOINT_SECONDS: int = 300
    BREAK_GLASS_HOURS: int = 4
    TESTING: bool = False
    WTF_CSRF_ENABLED: bool = True
    SESSION_COOKIE_SECURE: bool = False
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'shareplatform.db'}"),
            KEYS_DIR=os.environ.get("SHAREPLATFORM_KEYS_DIR", str(ROOT / "keys")),
            PRODUCTION=_env_bool("SHAREPLATFORM_PRODUCTION", False),
            ALLOW_FILE_KEYS_FOR_SECRET=_env_bool("SHAREPLATFORM_ALLOW_FILE_KEYS_FOR_SECRET", False),
            SESSION_COOKIE_SECURE=_env_bool("SHAREPLATFORM_SECURE_COOKIES", False),
        )

    def as_flask(self) -> dict[str, object]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        out.update(self.extra)
        return out


@dataclass
class TestConfig(Config):
    TESTING: bool = True
    AUDIT_CHECKPOINT_EVERY: int = 50
