"""Key state against the database: start-up checks, the current KEK version for new data keys,
status, and the re-wrap and state changes that `KeyAdmin` (shareplatform/access/keys.py) strings
together into rotation and retirement.

Start-up never silently creates keys for existing encrypted data: if the database records key
versions that the provider does not hold, or holds different keys, it refuses with a clear message.

Which version wraps a new data key is read from the database in the writing transaction itself
(`version_for_write`), never from memory: a process cannot keep wrapping under a version another
process has rotated away from, and a database trigger refuses it if anything tries.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import String, Table, func, literal_column, select, text, type_coerce, update
from sqlalchemy.orm import Session

from ..db import get_meta, set_meta, utcnow
from .blind_index import BlindIndexer
from .keys import SECRETS, KeyProblem, KeyProvider
from .models import DataKey, KekState, KekVersion, KeyHolder

LEVELS = ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET")
_WRITE_VERSIONS = "shareplatform.kek_for_write"


@dataclass(frozen=True)
class LevelStatus:
    level: str
    version: int
    state: str
    data_keys: int

    @property
    def current(self) -> bool:
        return self.state == KekState.CURRENT

    @property
    def retired(self) -> bool:
        return self.state == KekState.RETIRED


def _fingerprint(secret: bytes) -> str:
    return hmac.new(secret, b"shareplatform-keyset", hashlib.sha256).hexdigest()[:32]


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise KeyProblem(f"unknown level {level!r}: use one of {', '.join(LEVELS)}")
    return level


# -- start-up -------------------------------------------------------------------------------------
def bind(session: Session, provider: KeyProvider, allow_create: bool = True) -> None:
    """Check the provider's keys against what the database records; create them only when fresh."""
    where = getattr(provider, "root", provider.name)
    recorded = list(session.scalars(select(KekVersion)).all())
    has_data = session.scalar(select(func.count()).select_from(DataKey)) or 0
    if not recorded and has_data:
        raise KeyProblem("the database holds encrypted data but no key records: refusing to start")
    for name in SECRETS:
        _bind_secret(session, provider, name, where, fresh=not recorded and allow_create)
    for level in LEVELS:
        rows = [r for r in recorded if r.level == level]
        if rows:
            _check_keks(provider, level, rows, where)
        elif allow_create:
            _create_first_kek(session, provider, level)
        else:
            raise KeyProblem(f"no KEK recorded for {level}")
    session.flush()


def _bind_secret(
    session: Session, provider: KeyProvider, name: str, where: str, fresh: bool
) -> None:
    expected = get_meta(session, f"secret:{name}")
    value = provider.secret(name)
    if expected is None:
        if value is None:
            if not fresh:
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


def _create_first_kek(session: Session, provider: KeyProvider, level: str) -> None:
    versions = provider.kek_versions(level)
    version = max(versions) if versions else 1
    if not versions:
        provider.create_kek(level, version)
    session.add(
        KekVersion(
            level=level,
            version=version,
            check_value=provider.check_value(level, version),
            state=KekState.CURRENT.value,
        )
    )


def _check_keks(provider: KeyProvider, level: str, rows: list[KekVersion], where: str) -> None:
    for row in rows:
        if row.state not in (KekState.CURRENT, KekState.ACTIVE):
            continue  # retiring or retired: no data key needs it
        if row.version not in provider.kek_versions(level):
            raise KeyProblem(
                f"KEK {level} v{row.version} is missing from {where}: encrypted data needs it. "
                "Restore the keys directory or point SHAREPLATFORM_KEYS_DIR at the right one."
            )
        if not hmac.compare_digest(row.check_value, provider.check_value(level, row.version)):
            raise KeyProblem(
                f"KEK {level} v{row.version} in {where} is not the key this database uses"
            )
    if sum(1 for r in rows if r.state == KekState.CURRENT) != 1:
        raise KeyProblem(f"the database records no single current KEK version for {level}")


def indexer(provider: KeyProvider) -> BlindIndexer:
    key = provider.secret("index")
    if key is None:
        raise KeyProblem("blind index key is missing")
    return BlindIndexer(key)


# -- the current version --------------------------------------------------------------------------
def current_versions(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(KekVersion.level, KekVersion.version).where(
            KekVersion.state == KekState.CURRENT.value
        )
    )
    return {level: version for level, version in rows}


# a write that changes nothing, only to take SQLite's write lock (see version_for_write)
_TAKE_WRITE_LOCK = (
    update(KekVersion).where(KekVersion.version < 0).values(version=KekVersion.version)
)


def version_for_write(session: Session, level: str) -> int:
    """The KEK version a new data key of `level` must be wrapped under, read in this transaction.

    On PostgreSQL the row is share-locked until the transaction ends, so a rotation cannot switch
    the current version between this read and the commit of the data keys wrapped under it. The
    answer is kept for the rest of the transaction (one query per level per transaction).
    """
    cached = session.info.get(_WRITE_VERSIONS)
    transaction = session.get_transaction()
    if cached is not None and cached[0] is transaction and level in cached[1]:
        return cast(int, cached[1][level])
    stmt = (
        select(KekVersion.version)
        .where(KekVersion.level == level, KekVersion.state == KekState.CURRENT.value)
        .with_for_update(read=True)
    )
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: take the database's write lock before reading, so that no
        # rotation can commit a switch between this read and the insert of the data key.
        session.execute(_TAKE_WRITE_LOCK)
    # A read that waited for a rotation's switch finds the old row no longer current and cannot
    # see the new one in its snapshot: a second statement (a new snapshot) does.
    version = session.scalar(stmt)
    if version is None:
        version = session.scalar(stmt)
    if version is None:
        raise KeyProblem(f"no current KEK for {level}: run `flask --app wsgi db upgrade`")
    transaction = session.get_transaction()
    if cached is None or cached[0] is not transaction:
        versions: dict[str, int] = {}
        session.info[_WRITE_VERSIONS] = (transaction, versions)
    else:
        versions = cached[1]
    versions[level] = version
    return version


# -- status ---------------------------------------------------------------------------------------
def key_counts(session: Session, level: str | None = None) -> dict[tuple[str, int], int]:
    stmt = (
        select(DataKey.level, DataKey.kek_version, func.count())
        .where(DataKey.wrapped.is_not(None))
        .group_by(DataKey.level, DataKey.kek_version)
    )
    if level is not None:
        stmt = stmt.where(DataKey.level == level)
    return {(lvl, ver): n for lvl, ver, n in session.execute(stmt)}


def status(session: Session) -> list[LevelStatus]:
    counts = key_counts(session)
    rows = session.scalars(select(KekVersion).order_by(KekVersion.level, KekVersion.version)).all()
    return [
        LevelStatus(r.level, r.version, r.state, counts.get((r.level, r.version), 0)) for r in rows
    ]


def kek(session: Session, level: str, version: int, lock: bool = False) -> KekVersion | None:
    stmt = select(KekVersion).where(KekVersion.level == level, KekVersion.version == version)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def newest_recorded(session: Session, level: str) -> int:
    return (
        session.scalar(select(func.max(KekVersion.version)).where(KekVersion.level == level)) or 0
    )


def versions_to_rewrap(session: Session, level: str) -> list[int]:
    """Recorded versions other than the current one that still wrap a data key, oldest first.

    One index seek per recorded version (a handful), never a count over the level's keys: rotation
    asks this before and after re-wrapping, and a level can hold millions of keys.
    """
    current = current_versions(session).get(level)
    versions = session.scalars(
        select(KekVersion.version).where(KekVersion.level == level, KekVersion.version != current)
    )
    return [v for v in sorted(versions) if _wraps_any(session, level, v)]


def _wraps_any(session: Session, level: str, version: int) -> bool:
    found = select(DataKey.id).where(
        DataKey.level == level, DataKey.kek_version == version, DataKey.wrapped.is_not(None)
    )
    return session.scalar(found.limit(1)) is not None


def stale_versions(session: Session, level: str) -> dict[int, int]:
    """Versions other than the current one that still wrap data keys: {version: count}."""
    return {
        version: _count(session, level, version) for version in versions_to_rewrap(session, level)
    }


def _count(session: Session, level: str, version: int) -> int:
    counted = select(func.count()).where(
        DataKey.level == level, DataKey.kek_version == version, DataKey.wrapped.is_not(None)
    )
    return session.scalar(counted) or 0


# -- rotation steps -------------------------------------------------------------------------------
def make_current(session: Session, provider: KeyProvider, level: str, version: int) -> int | None:
    """Record `version` (already in the provider) as the level's current KEK; the old current one
    becomes active (unwrap only). Returns the old version. On PostgreSQL the update of the old
    row waits for every transaction that took it for writing (see `version_for_write`)."""
    old = session.scalar(
        select(KekVersion)
        .where(KekVersion.level == level, KekVersion.state == KekState.CURRENT.value)
        .with_for_update()
    )
    previous = None
    if old is not None:
        old.state = KekState.ACTIVE.value
        previous = old.version
        session.flush()  # one current row at a time
    session.add(
        KekVersion(
            level=level,
            version=version,
            check_value=provider.check_value(level, version),
            state=KekState.CURRENT.value,
        )
    )
    session.flush()
    return previous


# Rotation re-wraps in three steps, so that the database's write lock is held only while the new
# values are stored: read a batch (no lock), unwrap and wrap it (no transaction open), store it
# (one short write transaction). Each store is a compare-and-set on the old (version, wrapped)
# pair, so a key shredded or re-wrapped by someone else in between is left alone, and a reader
# always finds a consistent pair.


@dataclass(frozen=True)
class StaleKeys:
    """One batch of data keys still wrapped under an old version, in id order."""

    keys: list[tuple[object, bytes]]  # (where the row is, wrapped): see `_locator`
    last: object | None  # the keyset cursor: the last id read


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def stale_keys(
    session: Session, level: str, from_version: int, after: object | None, batch: int
) -> StaleKeys:
    """Up to `batch` data keys of (`level`, `from_version`) with ids after `after`.

    A range scan of ix_data_keys_rotation (level, kek_version, id) that starts where the last batch
    stopped. On SQLite the row is located by rowid (the update then skips the primary key index)
    and the id is kept as stored, without building a UUID per row.
    """
    table = cast(Table, DataKey.__table__)
    sqlite = _sqlite(session)
    key_id = type_coerce(table.c.id, String) if sqlite else table.c.id
    locator = literal_column("rowid") if sqlite else table.c.id
    stmt = (
        select(locator, key_id, table.c.wrapped)
        .where(
            table.c.level == level,
            table.c.kek_version == from_version,
            table.c.wrapped.is_not(None),
        )
        .order_by(table.c.id)
        .limit(batch)
    )
    if after is not None:
        stmt = stmt.where(key_id > after)
    rows = session.connection().execute(stmt).all()
    if not rows:
        return StaleKeys([], after)
    return StaleKeys([(where, wrapped) for where, _, wrapped in rows], rows[-1][1])


def rewrap_keys(
    provider: KeyProvider,
    level: str,
    from_version: int,
    to_version: int,
    keys: list[tuple[object, bytes]],
) -> list[tuple[object, bytes, bytes]]:
    """(where, old wrapped, new wrapped) for each key: unwrapped and wrapped in memory only."""
    rewrap = _rewrapper(provider, level, from_version, to_version)
    return [(where, wrapped, rewrap(wrapped)) for where, wrapped in keys]


def _rewrapper(
    provider: KeyProvider, level: str, from_version: int, to_version: int
) -> Callable[[bytes], bytes]:
    # A provider may resolve both KEKs once per batch (crypto/keys.py, FileKeyProvider).
    make = getattr(provider, "rewrapper", None)
    if make is not None:
        return cast(Callable[[bytes], bytes], make(level, from_version, to_version))
    return lambda wrapped: provider.wrap(
        level, to_version, provider.unwrap(level, from_version, wrapped)
    )


_SQLITE_STORE = (
    "UPDATE data_keys SET kek_version = ?, wrapped = ?"
    " WHERE rowid = ? AND level = ? AND kek_version = ? AND wrapped = ?"
)
# one statement per batch: the new values travel as arrays and join on the primary key
_POSTGRES_STORE = text(
    "UPDATE data_keys AS d SET kek_version = :to_version, wrapped = t.new"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:old AS bytea[]), CAST(:new AS bytea[]))"
    " AS t(id, old, new)"
    " WHERE d.id = t.id AND d.level = :level AND d.kek_version = :from_version"
    " AND d.wrapped = t.old"
)


def store_rewrapped(
    session: Session,
    level: str,
    from_version: int,
    to_version: int,
    changes: list[tuple[object, bytes, bytes]],
) -> int:
    """Store re-wrapped keys, each only if its row still holds the old (version, wrapped) pair.
    Returns how many rows changed."""
    if not changes:
        return 0
    connection = session.connection()
    if _sqlite(session):
        rows = [(to_version, new, where, level, from_version, old) for where, old, new in changes]
        # in rowid order: the table's pages are visited once each, front to back
        rows.sort(key=lambda row: cast(int, row[2]))
        return connection.exec_driver_sql(_SQLITE_STORE, rows).rowcount
    result = connection.execute(
        _POSTGRES_STORE,
        {
            "to_version": to_version,
            "from_version": from_version,
            "level": level,
            "ids": [where for where, _, _ in changes],
            "old": [old for _, old, _ in changes],
            "new": [new for _, _, new in changes],
        },
    )
    return cast(int, getattr(result, "rowcount", 0))


# -- retirement steps -----------------------------------------------------------------------------
def holders_of(session: Session, level: str, version: int, now: datetime) -> list[KeyHolder]:
    """Live processes whose last report still names `version` as the current one of `level`."""
    live = session.scalars(select(KeyHolder).where(KeyHolder.expires_at > now)).all()
    return [h for h in live if (level, version) in parse_current(h.current)]


def parse_current(text: str) -> set[tuple[str, int]]:
    out = set()
    for part in filter(None, text.split(",")):
        level, _, version = part.rpartition(":")
        out.add((level, int(version)))
    return out


def format_current(versions: dict[str, int]) -> str:
    return ",".join(f"{level}:{versions[level]}" for level in sorted(versions))


def mark(session: Session, row: KekVersion, state: KekState) -> None:
    row.state = state.value
    if state == KekState.RETIRED:
        row.retired_at = utcnow()
    session.flush()


# -- shredding ------------------------------------------------------------------------------------
def shred(session: Session, key_id: object) -> bool:
    """Destroy one data key: everything it protected is unreadable for ever. Returns False, and
    changes nothing, when the key was already shredded (a repeated `keys shred`)."""
    key = session.get(DataKey, key_id, with_for_update=True)
    if key is None:
        raise KeyProblem("no such data key")
    if key.wrapped is None:
        return False
    key.wrapped = None
    key.shredded_at = utcnow()
    session.flush()
    return True
