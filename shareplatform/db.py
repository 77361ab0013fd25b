"""Typed SQLAlchemy 2 base, engine and session handling. No Flask here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime refused: use UTC-aware datetimes")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class InstanceMeta(Base):
    """Facts about this instance: key-set fingerprint, whether it was created as a demo."""

    __tablename__ = "instance_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(400))


@dataclass(frozen=True)
class ConnectionLimits:
    """What every PostgreSQL connection is held to (seconds; 0 turns a limit off), and whether
    the URL goes through PgBouncer in transaction mode."""

    statement_timeout: float = 30
    lock_timeout: float = 10
    idle_in_transaction_timeout: float = 60
    via_pgbouncer: bool = False

    def settings(self) -> dict[str, str]:
        """The server settings, in milliseconds as PostgreSQL reads a bare number."""
        return {
            "statement_timeout": _millis(self.statement_timeout),
            "lock_timeout": _millis(self.lock_timeout),
            "idle_in_transaction_session_timeout": _millis(self.idle_in_transaction_timeout),
        }


def _millis(seconds: float) -> str:
    return str(round(seconds * 1000))


def libpq_url(url: str) -> str:
    """A PostgreSQL URL with its fallback hosts in the form SQLAlchemy passes on to libpq.

    libpq's own form lists them in one `host` parameter, `?host=a:5432,b:5433`; SQLAlchemy only
    splits a host:port list it is given as repeated parameters (`?host=a:5432&host=b:5433`), and
    would otherwise hand libpq the ports inside the host names. Other URLs come back unchanged."""
    if not url.startswith("postgresql"):
        return url
    parsed = make_url(url)
    hosts = parsed.query.get("host")
    if not isinstance(hosts, str) or "," not in hosts:
        return url
    listed = tuple(h.strip() for h in hosts.split(",") if h.strip())
    return parsed.update_query_dict({"host": listed}).render_as_string(hide_password=False)


def make_engine(url: str, limits: ConnectionLimits | None = None, **kwargs: object) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return _postgres_engine(libpq_url(url), limits or ConnectionLimits(), **kwargs)


def _postgres_engine(url: str, limits: ConnectionLimits, **kwargs: object) -> Engine:
    if not limits.via_pgbouncer:
        # sent with the start-up packet: in force before the first statement, at no extra cost
        options = " ".join(f"-c {name}={value}" for name, value in limits.settings().items())
        return create_engine(url, pool_pre_ping=True, connect_args={"options": options}, **kwargs)
    # PgBouncer in transaction mode hands each transaction any server connection: psycopg's
    # automatic server-side prepared statements would be missing on the next one (PgBouncer
    # before 1.21 keeps none), and settings made per connection would leak to other clients
    # while missing on ours, so the limits are set for each transaction as it begins.
    engine = create_engine(
        url, pool_pre_ping=True, connect_args={"prepare_threshold": None}, **kwargs
    )
    names = list(limits.settings())
    statement = "SELECT " + ", ".join(f"set_config('{n}', %({n})s, true)" for n in names)

    @event.listens_for(engine, "begin")
    def _limit_transaction(conn):
        conn.exec_driver_sql(statement, limits.settings())

    return engine


class Database:
    """One engine and session factory per application instance."""

    def __init__(self, url: str, limits: ConnectionLimits | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, limits)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together, or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def get_meta(session: Session, key: str) -> str | None:
    row = session.get(InstanceMeta, key)
    return row.value if row else None


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(InstanceMeta, key)
    if row is None:
        session.add(InstanceMeta(key=key, value=value))
    else:
        row.value = value
