"""Building platforms and data for tests.

Real migrations, real keys in temp folders, real crypto.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from shareplatform import create_app
from shareplatform.access import policy_files, store
from shareplatform.accounts.models import User
from shareplatform.config import TestConfig
from shareplatform.context import Ctx
from shareplatform.migrate import upgrade
from shareplatform.platform import Platform

DEMO_PASSWORD = "correct horse battery staple"
DEMO_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # 160 bits, base32


def make_config(db_url: str, keys_dir: Path) -> TestConfig:
    return TestConfig(
        DATABASE_URL=db_url,
        KEYS_DIR=str(keys_dir),
        WTF_CSRF_ENABLED=True,
        AUDIT_WITNESS=str(Path(keys_dir).parent / "audit-witness.jsonl"),
    )


def fresh_platform(
    db_url: str, keys_dir: Path, *, policy: bool = True, migrate: bool = True
) -> Platform:
    """A migrated, key-bound platform with the default policy loaded (no demo data); `migrate`
    False for a database already at head (tests/conftest.py `MigratedTemplates`)."""
    if migrate:
        upgrade(db_url)
    platform = Platform(make_config(db_url, keys_dir))
    platform.bind()
    if policy:
        with platform.transaction() as session:
            store.replace_rules(session, policy_files.read())
    return platform


def seeded_platform(db_url: str, keys_dir: Path) -> Platform:
    from shareplatform.demo.seed import seed

    platform = fresh_platform(db_url, keys_dir)
    seed(platform, password=DEMO_PASSWORD, totp_secret=DEMO_TOTP)
    return platform


_APPS: list = []  # type: ignore[type-arg]  # apps made by app_for, closed after each test


def app_for(platform: Platform):  # type: ignore[no-untyped-def]
    """A Flask app over an existing platform's database and keys (its own connection pool,
    closed after the test by tests/conftest.py, so no connection is left to the collector)."""
    app = create_app(platform.config)
    _APPS.append(app)
    return app


def close_apps() -> None:
    while _APPS:
        made = _APPS.pop().extensions["shareplatform"]
        made.db.dispose()
        if made.reports_db is not made.db:
            made.reports_db.dispose()


def ctx_for(platform: Platform, session, username: str, today: date | None = None) -> Ctx:  # type: ignore[no-untyped-def]
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    today = today or date.today()
    return Ctx(
        session,
        platform.access,
        platform.access.subject(session, user, today),
        platform.indexer,
        today,
    )


@dataclass
class SeededCopy:
    """A seeded SQLite database and keys folder made once.

    Copied cheaply for each test that writes.
    """

    db_file: Path
    keys_dir: Path

    def copy(self, target: Path) -> tuple[str, Path]:
        """Into `target` (a test's own tmp_path, which pytest cleans up)."""
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.db_file, target / "db.sqlite")
        shutil.copytree(self.keys_dir, target / "keys")
        return f"sqlite:///{target / 'db.sqlite'}", target / "keys"
