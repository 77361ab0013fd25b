"""One configuration object, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .db import ConnectionLimits, libpq_url

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting that cannot be used. The message names the setting and says what to do."""


def _raw(name: str) -> str | None:
    """`NAME` from the environment, or the stripped content of the file `NAME_FILE` names (for
    secrets mounted as files); None when neither is set."""
    direct = os.environ.get(name)
    path = os.environ.get(name + "_FILE")
    if path is None:
        return direct
    if direct is not None:
        raise ConfigError(f"both {name} and {name}_FILE are set: give one of them")
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{name}_FILE={path!r} cannot be read: {exc.strerror}") from exc


def env_secret(name: str) -> str:
    """A secret read where it is needed, not at start (`NAME` or `NAME_FILE`); "" when unset."""
    return _raw(name) or ""


def _env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _env_optional_bool(name: str) -> bool | None:
    value = _raw(name)
    if value is None or not value.strip():
        return None
    word = value.strip().lower()
    if word not in _TRUE + _FALSE:
        raise ConfigError(f"{name}={value!r} is not a yes/no value: use 1 or 0")
    return word in _TRUE


def _env_bool(name: str, default: bool) -> bool:
    value = _env_optional_bool(name)
    return default if value is None else value


def _env_number(name: str, default: float, kind: type[int] | type[float]) -> Any:
    value = _raw(name)
    if value is None or not value.strip():
        return default
    try:
        number = kind(value.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name}={value!r} is not {what}") from None
    if number < 0:
        raise ConfigError(f"{name}={value!r} must not be negative")
    return number


def _env_int(name: str, default: int) -> int:
    return int(_env_number(name, default, int))


def _env_float(name: str, default: float) -> float:
    return float(_env_number(name, default, float))


# Values that appear in documentation, SoftHSM examples and tests: never production secrets.
DEVELOPMENT_SECRETS = frozenset(
    {"", "dev", "development", "secret", "changeme", "change-me", "password", "test", "testing"}
    | {"0000", "1111", "1234", "12345", "123456", "246810", "13579113"}
)
MIN_SECRET_KEY_LENGTH = 32


def default_witness(database_url: str) -> str:
    """Next to a SQLite database file; otherwise in the instance folder. Either way outside the
    database, though on the same machine: point SHAREPLATFORM_AUDIT_WITNESS elsewhere (another
    host's mount, or syslog) for a witness that the database's administrators cannot reach."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return database_url.removeprefix("sqlite:///") + ".audit-witness.jsonl"
    return str(ROOT / "instance" / "audit-witness.jsonl")


def _rp_id_fits(rp_id: str, origin: str) -> bool:
    """WebAuthn's rule: the relying-party id is the origin's host or a domain that contains it."""
    host = urlsplit(origin).hostname or ""
    return host == rp_id or host.endswith("." + rp_id)


@dataclass
class Config:
    # PostgreSQL or SQLite. For a primary and standby, list both hosts and ask for the writable
    # one: postgresql+psycopg://USER@/DB?host=A:5432,B:5432&target_session_attrs=read-write
    DATABASE_URL: str = ""
    # Management information (shareplatform/reports/) may read from a standby; "" reads the primary.
    REPORTS_DATABASE_URL: str = ""
    # Limits set on every PostgreSQL connection, in seconds (0 turns one off).
    DB_STATEMENT_TIMEOUT: float = 30.0
    DB_LOCK_TIMEOUT: float = 10.0
    DB_IDLE_IN_TRANSACTION_TIMEOUT: float = 60.0
    # The URLs go through PgBouncer in transaction mode: no server-side prepared statements, and
    # the limits above set per transaction instead of per connection (shareplatform/db.py).
    DB_VIA_PGBOUNCER: bool = False
    KEYS_DIR: str = ""
    # SHAREPLATFORM_PRODUCTION=1: `validate` refuses every unsafe setting below at start.
    PRODUCTION: bool = False
    # Outside production, SECRET may be served from file keys only when explicitly allowed.
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
    # None: Secure, except on plain http between loopback addresses outside production (a
    # developer's own machine; shareplatform/web/shell.py). False turns it off; production refuses.
    SESSION_COOKIE_SECURE: bool | None = None
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted (wsgi
    # middleware ProxyFix): 0 trusts none, so the headers are ignored.
    PROXY_HOPS: int = 0
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    API_RATE_LIMIT: int = 600  # API requests per token per window
    # A policy change that removes access for more users than this needs a second administrator.
    POLICY_MAX_USERS_LOST: int = 10
    # WebAuthn security keys (shareplatform/accounts/webauthn.py): the relying-party id (a domain,
    # e.g. share.example.gov.uk) and the exact origin pages are served from. Unset outside
    # production: taken from the request's host; unset in production: security keys are off.
    WEBAUTHN_RP_ID: str = ""
    WEBAUTHN_ORIGIN: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Config:
        """Every setting from the environment; any `X` may be given as `X_FILE` instead."""
        url = _env_str("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'shareplatform.db'}")
        return cls(
            DATABASE_URL=libpq_url(url),
            REPORTS_DATABASE_URL=libpq_url(_env_str("SHAREPLATFORM_REPORTS_DATABASE_URL", "")),
            DB_STATEMENT_TIMEOUT=_env_float("SHAREPLATFORM_DB_STATEMENT_TIMEOUT", 30),
            DB_LOCK_TIMEOUT=_env_float("SHAREPLATFORM_DB_LOCK_TIMEOUT", 10),
            DB_IDLE_IN_TRANSACTION_TIMEOUT=_env_float(
                "SHAREPLATFORM_DB_IDLE_IN_TRANSACTION_TIMEOUT", 60
            ),
            DB_VIA_PGBOUNCER=_env_bool("SHAREPLATFORM_DB_PGBOUNCER", False),
            KEYS_DIR=_env_str("SHAREPLATFORM_KEYS_DIR", str(ROOT / "keys")),
            AUDIT_WITNESS=_env_str("SHAREPLATFORM_AUDIT_WITNESS", "") or default_witness(url),
            AUDIT_CHECKPOINT_EVERY=_env_int("SHAREPLATFORM_AUDIT_CHECKPOINT_EVERY", 1000),
            AUDIT_CHECKPOINT_SECONDS=_env_float("SHAREPLATFORM_AUDIT_CHECKPOINT_SECONDS", 5),
            PRODUCTION=_env_bool("SHAREPLATFORM_PRODUCTION", False),
            ALLOW_FILE_KEYS_FOR_SECRET=_env_bool("SHAREPLATFORM_ALLOW_FILE_KEYS_FOR_SECRET", False),
            KEY_PROVIDER=_env_str("SHAREPLATFORM_KEY_PROVIDER", "file").strip().lower(),
            PKCS11_MODULE=_env_str(
                "SHAREPLATFORM_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so"
            ),
            PKCS11_TOKEN=_env_str("SHAREPLATFORM_PKCS11_TOKEN", ""),
            PKCS11_PIN=_env_str("SHAREPLATFORM_PKCS11_PIN", ""),
            PKCS11_DEK_CACHE_SECONDS=_env_float("SHAREPLATFORM_PKCS11_DEK_CACHE_SECONDS", 30),
            SESSION_COOKIE_SECURE=_env_optional_bool("SHAREPLATFORM_SECURE_COOKIES"),
            PROXY_HOPS=_env_int("SHAREPLATFORM_PROXY_HOPS", 0),
            API_RATE_LIMIT=_env_int("SHAREPLATFORM_API_RATE_LIMIT", 600),
            POLICY_MAX_USERS_LOST=_env_int("SHAREPLATFORM_POLICY_MAX_USERS_LOST", 10),
            RESET_CODE_HOURS=_env_int("SHAREPLATFORM_RESET_CODE_HOURS", 4),
            KEY_WATCH_SECONDS=_env_float("SHAREPLATFORM_KEY_WATCH_SECONDS", 1),
            KEY_WATCH_TTL_SECONDS=_env_float("SHAREPLATFORM_KEY_WATCH_TTL_SECONDS", 30),
            WEBAUTHN_RP_ID=_env_str("SHAREPLATFORM_WEBAUTHN_RP_ID", "").strip().lower(),
            WEBAUTHN_ORIGIN=_env_str("SHAREPLATFORM_WEBAUTHN_ORIGIN", "").strip().rstrip("/"),
        )

    def connection_limits(self) -> ConnectionLimits:
        """What every PostgreSQL connection is held to (shareplatform/db.py)."""
        return ConnectionLimits(
            statement_timeout=self.DB_STATEMENT_TIMEOUT,
            lock_timeout=self.DB_LOCK_TIMEOUT,
            idle_in_transaction_timeout=self.DB_IDLE_IN_TRANSACTION_TIMEOUT,
            via_pgbouncer=self.DB_VIA_PGBOUNCER,
        )

    def validate(self) -> None:
        """Fail fast at start: raise ConfigError naming every setting that cannot be used."""
        problems = self._general_problems()
        if self.PRODUCTION:
            problems += [f"SHAREPLATFORM_PRODUCTION=1 refuses {p}" for p in self._unsafe()]
        if problems:
            raise ConfigError("; ".join(problems))

    def _general_problems(self) -> list[str]:
        problems = []
        if self.KEY_PROVIDER not in ("file", "pkcs11"):
            problems.append(
                f"SHAREPLATFORM_KEY_PROVIDER={self.KEY_PROVIDER!r} is unknown: use file or pkcs11"
            )
        if self.PROXY_HOPS < 0:
            problems.append(f"SHAREPLATFORM_PROXY_HOPS={self.PROXY_HOPS} must not be negative")
        if bool(self.WEBAUTHN_RP_ID) != bool(self.WEBAUTHN_ORIGIN):
            problems.append(
                "SHAREPLATFORM_WEBAUTHN_RP_ID and SHAREPLATFORM_WEBAUTHN_ORIGIN: "
                "set both or neither"
            )
        elif self.WEBAUTHN_RP_ID and not _rp_id_fits(self.WEBAUTHN_RP_ID, self.WEBAUTHN_ORIGIN):
            problems.append(
                f"SHAREPLATFORM_WEBAUTHN_RP_ID={self.WEBAUTHN_RP_ID} is not the host of "
                f"SHAREPLATFORM_WEBAUTHN_ORIGIN={self.WEBAUTHN_ORIGIN} or a domain above it"
            )
        return problems

    def _unsafe(self) -> list[str]:
        """What production refuses, each naming its setting and what to use instead."""
        unsafe = []
        if self.DATABASE_URL.startswith("sqlite"):
            unsafe.append(f"DATABASE_URL={self.DATABASE_URL}: use PostgreSQL")
        if self.SESSION_COOKIE_SECURE is False:
            unsafe.append("SHAREPLATFORM_SECURE_COOKIES=0: cookies must be Secure (HTTPS only)")
        if self.KEY_PROVIDER == "file":
            unsafe.append(
                "SHAREPLATFORM_KEY_PROVIDER=file: SECRET keys must live in an HSM "
                "(SHAREPLATFORM_KEY_PROVIDER=pkcs11)"
            )
        if self.ALLOW_FILE_KEYS_FOR_SECRET:
            unsafe.append("SHAREPLATFORM_ALLOW_FILE_KEYS_FOR_SECRET=1: SECRET from file keys")
        if self.KEY_PROVIDER == "pkcs11":
            if not self.PKCS11_TOKEN:
                unsafe.append("SHAREPLATFORM_PKCS11_TOKEN unset: name the HSM token")
            if self.PKCS11_PIN.strip().lower() in DEVELOPMENT_SECRETS:
                unsafe.append(
                    "SHAREPLATFORM_PKCS11_PIN missing or a development default: set the "
                    "token's PIN (SHAREPLATFORM_PKCS11_PIN_FILE may name a file holding it)"
                )
        if self.WEBAUTHN_ORIGIN and not self.WEBAUTHN_ORIGIN.startswith("https://"):
            unsafe.append(f"SHAREPLATFORM_WEBAUTHN_ORIGIN={self.WEBAUTHN_ORIGIN}: use https://")
        unsafe += self._unsafe_secret_key()
        return unsafe

    def _unsafe_secret_key(self) -> list[str]:
        """SECRET_KEY is normally derived from the service key (shareplatform/web/shell.py);
        one given explicitly must be real."""
        key = self.extra.get("SECRET_KEY")
        if key is None:
            return []
        text = key.decode(errors="replace") if isinstance(key, bytes) else str(key)
        if text.strip().lower() in DEVELOPMENT_SECRETS or len(text) < MIN_SECRET_KEY_LENGTH:
            return [
                "SECRET_KEY: a development default or shorter than "
                f"{MIN_SECRET_KEY_LENGTH} characters; leave it unset to derive it from the "
                "service key"
            ]
        return []

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
