"""Key lifecycle against the database: start-up checks, status, rotation, retirement, shredding.

Start-up never silently creates keys for existing encrypted data: if the database records key
versions that the provider does not hold, or holds different keys, it refuses with a clear message.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from ..db import get_meta, set_meta, utcnow
from .blind_index import BlindIndexer
from .keys import SECRETS, KeyProblem, KeyProvider
from .models import DataKey, KekVersion
from .vault import LEVELS, Vault


@dataclass(frozen=True)
class LevelStatus:
    level: str
    version: int
    current: bool
    retired: bool
    data_keys: int


def _fingerprint(secret: bytes) -> str:
    return hmac.new(secret, b"shareplatform-keyset", hashlib.sha256).hexdigest()[:32]


def bind(session: Session, provider: KeyProvider, vault: Vault, allow_create: bool = True) -> None:
    """Check the provider's keys against what the database records; create them only when fresh."""
    where = getattr(provider, "root", provider.name)
    recorded = session.scalars(select(KekVersion)).all()
    has_data = session.scalar(select(func.count()).select_from(DataKey)) or 0
    if not recorded and has_data:
        raise KeyProblem("the database holds encrypted data but no key records: refusing to start")
    for name in SECRETS:
        expected = get_meta(session, f"secret:{name}")
        value = provider.secret(name)
        if expected is None:
            if value is None:
                if recorded or not allow_create:
                    raise KeyProblem(f"secret '{name}' is missing from {where}")
                value = provider.create_secret(name)
            set_meta(session, f"secret:{name}", _fingerprint(value))
        elif value is None:
            raise KeyProblem(
                f"secret '{name}' is missing from {where}, but this database was created with it. "
                "Restore the keys directory (SHAREPLATFORM_KEYS_DIR) or use a new database."
            )
        elif not hmac.compare_digest(expected, _fingerprint(value)):
            raise KeyProblem(
                f"secret '{name}' in {where} is not the one this database was created with"
            )
    for level in LEVELS:
        rows = [r for r in recorded if r.level == level]
        if not rows:
            if not allow_create:
                raise KeyProblem(f"no KEK recorded for {level}")
            versions = provider.kek_versions(level)
            version = max(versions) if versions else 1
            if not versions:
                provider.create_kek(level, version)
            session.add(
                KekVersion(
                    level=level, version=version, check_value=provider.check_value(level, version)
                )
            )
            vault.current[level] = version
            continue
        for row in rows:
            if row.retired_at is not None:
                continue
            if row.version not in provider.kek_versions(level):
                raise KeyProblem(
                    f"KEK {level} v{row.version} is missing from {where}: encrypted data needs it. "
                    "Restore the keys directory or point SHAREPLATFORM_KEYS_DIR at the right one."
                )
            if not hmac.compare_digest(row.check_value, provider.check_value(level, row.version)):
                raise KeyProblem(
                    f"KEK {level} v{row.version} in {where} is not the key this database uses"
                )
        vault.current[level] = max(r.version for r in rows if r.retired_at is None)
    session.flush()


def indexer(provider: KeyProvider) -> BlindIndexer:
    key = provider.secret("index")
    if key is None:
        raise KeyProblem("blind index key is missing")
    return BlindIndexer(key)


def status(session: Session) -> list[LevelStatus]:
    counts = dict(
        ((lvl, ver), n)
        for lvl, ver, n in session.execute(
            select(DataKey.level, DataKey.kek_version, func.count())
            .where(DataKey.wrapped.is_not(None))
            .group_by(DataKey.level, DataKey.kek_version)
        )
    )
    rows = session.scalars(select(KekVersion).order_by(KekVersion.level, KekVersion.version)).all()
    current: dict[str, int] = {}
    for r in rows:
        if r.retired_at is None:
            current[r.level] = max(current.get(r.level, 0), r.version)
    return [
        LevelStatus(
            r.level,
            r.version,
            current.get(r.level) == r.version,
            r.retired_at is not None,
            counts.get((r.level, r.version), 0),
        )
        for r in rows
    ]


def begin_rotation(session: Session, provider: KeyProvider, vault: Vault, level: str) -> int:
    """Create a new KEK version for `level`; new data keys use it from now on."""
    if level not in LEVELS:
        raise KeyProblem(f"unknown level {level!r}")
    latest = (
        session.scalar(select(func.max(KekVersion.version)).where(KekVersion.level == level)) or 0
    )
    version = max(latest, *provider.kek_versions(level), 0) + 1
    provider.create_kek(level, version)
    session.add(
        KekVersion(level=level, version=version, check_value=provider.check_value(level, version))
    )
    vault.current[level] = version
    return version


def rewrap_batch(
    session: Session, provider: KeyProvider, level: str, to_version: int, batch: int
) -> int:
    """Re-wrap up to `batch` data keys of `level` under `to_version`. Content is not re-encrypted.

    Each key row is updated on its own old version (compare-and-set), so a concurrent reader
    always finds a consistent (version, wrapped) pair and never blocks for long.
    """
    rows = session.execute(
        select(DataKey.id, DataKey.kek_version, DataKey.wrapped)
        .where(
            DataKey.level == level, DataKey.kek_version < to_version, DataKey.wrapped.is_not(None)
        )
        .limit(batch)
    ).all()
    if not rows:
        return 0
    # One executemany per batch (a per-row ORM update cost ~1.5 ms a key at 1M records).
    table = cast(Table, DataKey.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("key_id"), table.c.kek_version == bindparam("old_version"))
        .values(kek_version=to_version, wrapped=bindparam("new_wrapped"))
    )
    session.execute(
        stmt,
        [
            {
                "key_id": key_id,
                "old_version": old_version,
                # the query selects only keys whose wrapped value is not NULL
                "new_wrapped": provider.wrap(
                    level,
                    to_version,
                    provider.unwrap(level, old_version, wrapped),  # type: ignore[arg-type]
                ),
            }  # type: ignore[arg-type]
            for key_id, old_version, wrapped in rows
        ],
    )
    return len(rows)


def rotate(
    db_transaction: Callable[[], object],
    provider: KeyProvider,
    vault: Vault,
    level: str,
    batch: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Rotate one level online: new KEK version, then re-wrap in short batches.

    Returns (version, n).
    """
    with db_transaction() as session:  # type: ignore[attr-defined]
        version = begin_rotation(session, provider, vault, level)
    total = 0
    while True:
        with db_transaction() as session:  # type: ignore[attr-defined]
            done = rewrap_batch(session, provider, level, version, batch)
        total += done
        if progress:
            progress(total)
        if done < batch:
            return version, total


def retire(session: Session, provider: KeyProvider, level: str, version: int) -> None:
    row = session.get(KekVersion, (level, version))
    if row is None or row.retired_at is not None:
        raise KeyProblem(f"no active KEK {level} v{version}")
    in_use = session.scalar(
        select(func.count())
        .select_from(DataKey)
        .where(DataKey.level == level, DataKey.kek_version == version, DataKey.wrapped.is_not(None))
    )
    if in_use:
        raise KeyProblem(f"KEK {level} v{version} still wraps {in_use} data keys: rotate first")
    newest = session.scalar(
        select(func.max(KekVersion.version)).where(
            KekVersion.level == level, KekVersion.retired_at.is_(None)
        )
    )
    if newest == version:
        raise KeyProblem(
            f"KEK {level} v{version} is the current version: rotate before retiring it"
        )
    row.retired_at = utcnow()
    session.flush()  # the caller destroys the key file only after this commits


def shred(session: Session, key_id: object) -> None:
    """Destroy one data key: everything it protected is unreadable for ever."""
    key = session.get(DataKey, key_id)
    if key is None:
        raise KeyProblem("no such data key")
    key.wrapped = None
    key.shredded_at = utcnow()
