"""Authorisation facts bound by a key the database does not hold.

Every column an access decision reads (a user's role and clearance, a membership, a record's case
and type, an action's owner, the live policy's version...) is listed in its model's `__facts__`.
When the owning service writes the row through the ORM, the unit of work stamps `facts_mac`: an
HMAC-SHA256, under a key derived from the key provider's signing secret, of the table, the row's
primary key and those values. Every ORM load checks it. Someone who edits the database without
the key cannot make a stamp verify, so a forged fact fails closed for that one object: it is
marked (`facts_intact` False) and the access layer (shareplatform/access/kernel.py) withholds it
with an integrity marker, audits and alerts. Core inserts stamp each row with `stamp`; Core
selects of facts check each row with `intact`.

The key reaches sessions through `session.info` (set by shareplatform/platform.py): a session
without it cannot write a fact at all.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import LargeBinary, RowMapping, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db import Base
from ..domain.errors import IntegrityFailure

log = logging.getLogger("shareplatform.integrity")

INFO_KEY = "attestor"
FAILURES = "integrity_failures"
_INTACT = "_facts_intact"


class Attested:
    """A row whose authorisation facts carry a MAC. Subclasses list them in `__facts__`."""

    __facts__: ClassVar[tuple[str, ...]] = ()
    facts_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)

    @property
    def facts_intact(self) -> bool:
        """False when the row's facts did not match their MAC when it was loaded."""
        return bool(self.__dict__.get(_INTACT, True))


def _canon(value: object) -> bytes:
    kind = type(value)
    if kind is str:  # the common cases first: this runs once per fact of every loaded row
        return value.encode()  # type: ignore[attr-defined]
    if value is None:
        return b"\x00"
    if kind is uuid.UUID:
        return str(value).encode()
    if isinstance(value, bool):
        return b"1" if value else b"0"
    marking = getattr(value, "marking", None)  # a Classification is stored as its marking
    if isinstance(marking, str):
        return marking.encode()
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").encode()
    if isinstance(value, date):
        return value.isoformat().encode()
    if isinstance(value, bytes):
        return value.hex().encode()
    if isinstance(value, uuid.UUID):
        return str(value).encode()
    return str(value).encode()


def _columns(model: type[Any]) -> tuple[str, ...]:
    """Primary key first (a stamp cannot be moved to another row), then the facts."""
    cached: tuple[str, ...] | None = model.__dict__.get("_attested_columns")
    if cached is None:
        mapper = inspect(model)
        keys = tuple(c.key for c in mapper.primary_key)
        cached = keys + tuple(f for f in model.__facts__ if f in mapper.columns)
        model._attested_columns = cached
    return cached


def attested_columns(model: type[Any]) -> tuple[str, ...]:
    return _columns(model)


def attested_models() -> list[type[Any]]:
    """Every mapped model with attested facts, in table-name order."""
    found = [m.class_ for m in Base.registry.mappers if issubclass(m.class_, Attested)]
    return sorted(found, key=lambda m: m.__tablename__)


class Attestor:
    """Makes and checks fact stamps. The key never leaves this object."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._verified: dict[bytes, tuple[type[Any], list[object]]] = {}

    @classmethod
    def from_signing_seed(cls, seed: bytes) -> Attestor:
        """A key of its own, derived from the provider's signing secret (so an HSM holds it)."""
        return cls(hmac.new(seed, b"shareplatform-facts-v1", hashlib.sha256).digest())

    def __repr__(self) -> str:
        return "Attestor(<hidden>)"

    def mac(self, model: type[Any], values: Mapping[Any, Any]) -> bytes:
        """HMAC-SHA256 of the table name, then each value length-prefixed, in column order."""
        get = values.get
        return self._digest(model, [get(name) for name in _columns(model)])

    def _digest(self, model: type[Any], values: list[Any]) -> bytes:
        parts = [model.__tablename__.encode()]
        add = parts.append
        for value in values:  # the common types inline: this runs for every fact of every row
            kind = type(value)
            raw = (
                value.encode()
                if kind is str
                else str(value).encode()
                if kind is uuid.UUID
                else b"\x00"
                if value is None
                else _canon(value)
            )
            size = len(raw)
            add(_LENGTHS[size] if size < 256 else size.to_bytes(4, "big"))
            add(raw)
        return hmac.digest(self._key, b"".join(parts), "sha256")

    def stamp(self, model: type[Any], row: dict[str, Any]) -> dict[str, Any]:
        """Stamp a row dict for a Core insert, filling the defaults of facts it leaves out (in
        place; returned for convenience)."""
        for name in _columns(model):
            if name not in row:
                row[name] = _default(model, name)
        row["facts_mac"] = self.mac(model, row)
        return row

    def intact(self, model: type[Any], row: Mapping[Any, Any]) -> bool:
        """Does a row (mapping of column values, including facts_mac) match its stamp?"""
        stored = row.get("facts_mac")
        return isinstance(stored, bytes) and hmac.compare_digest(stored, self.mac(model, row))

    def stamp_object(self, obj: Attested) -> None:
        obj.facts_mac = self._digest(type(obj), _fact_values(obj))

    def check_object(self, obj: Attested) -> bool:
        return self.check_values(type(obj), _fact_values(obj), obj.facts_mac)

    def check_values(self, model: type[Any], values: list[object], stored: object) -> bool:
        """Do `values` (of `attested_columns(model)`, in order) match the stamp `stored`?"""
        if not isinstance(stored, bytes):
            return False
        # A stamp is a pure function of the key, the table and the values: a (stamp, values)
        # pair verified once in this process verifies again. Any other values, or this stamp
        # on another row, are recomputed in full (and fail when forged).
        if self._verified.get(stored) == (model, values):
            return True
        if not hmac.compare_digest(stored, self._digest(model, values)):
            return False
        if len(self._verified) >= _REMEMBERED:
            self._verified.clear()
        self._verified[stored] = (model, values)
        return True


_REMEMBERED = 100_000  # verified stamps kept per process (about 30 MB at most)
_LENGTHS = tuple(n.to_bytes(4, "big") for n in range(256))


def _fact_values(obj: Attested) -> list[object]:
    loaded = obj.__dict__  # loaded columns live here; anything else through the attribute
    return [loaded[name] if name in loaded else getattr(obj, name) for name in _columns(type(obj))]


def _values(obj: Attested) -> dict[str, object]:
    return dict(zip(_columns(type(obj)), _fact_values(obj), strict=True))


def attestor_of(session: Session) -> Attestor:
    """The session's attestor (session.info holds a function returning it, so the key is read
    from the provider only when first needed)."""
    source = session.info.get(INFO_KEY)
    if source is None:
        raise IntegrityFailure(
            "facts", "", "this session holds no fact key: facts are written only by the platform"
        )
    return source()


def failed(session: Session, table: str, key: object) -> None:
    """Remember (for the access layer's audit: `take_failures`) and log a row whose facts did not
    verify."""
    session.info.setdefault(FAILURES, set()).add((table, str(key)))
    log.error(
        "integrity check failed: %s %s (its authorisation facts do not match their stamp)",
        table,
        key,
    )


def take_failures(session: Session) -> list[tuple[str, str]]:
    """The rows that failed their check in this session since last asked, in order."""
    return sorted(session.info.pop(FAILURES, ()))


def intact_rows(session: Session, model: type[Any], *where: Any) -> list[RowMapping]:
    """A Core read of an attested table's facts (no ORM load to check them): the rows whose
    stamps verify; a forged one is left out (fails closed) and remembered as failed."""
    table = model.__table__
    columns = [table.c[name] for name in _columns(model)] + [table.c.facts_mac]
    attestor = attestor_of(session)
    rows = []
    for row in session.execute(select(*columns).where(*where)).mappings():
        if attestor.intact(model, row):
            rows.append(row)
        else:
            failed(session, table.name, row[columns[0].key])
    return rows


def _check(obj: Attested, session: Session | None) -> None:
    source = session.info.get(INFO_KEY) if session is not None else None
    ok = source is not None and source().check_object(obj)
    obj.__dict__[_INTACT] = ok
    if not ok and session is not None:
        failed(session, type(obj).__tablename__, _values(obj)[_columns(type(obj))[0]])  # type: ignore[attr-defined]


@event.listens_for(Base, "load", propagate=True)
def _on_load(target: object, context: Any) -> None:
    if isinstance(target, Attested):
        _check(target, context.session)


@event.listens_for(Base, "refresh", propagate=True)
def _on_refresh(target: object, context: Any, attrs: Any) -> None:
    if isinstance(target, Attested) and (
        attrs is None or not set(attrs).isdisjoint(_columns(type(target)) + ("facts_mac",))
    ):
        _check(target, context.session)


def _default(model: type[Any], name: str) -> object:
    """The Python-side default a column takes when an insert leaves it out (None if none)."""
    default = getattr(inspect(model).columns.get(name), "default", None)
    if default is None or not (default.is_scalar or default.is_callable):
        return None
    return default.arg(None) if default.is_callable else default.arg


def _apply_defaults(obj: Attested) -> None:
    """Fill Python-side column defaults now, so the stamp covers the values the row will hold."""
    for name in _columns(type(obj)):
        if getattr(obj, name) is None:
            value = _default(type(obj), name)
            if value is not None:
                setattr(obj, name, value)


@event.listens_for(Session, "before_flush")
def _stamp_before_flush(session: Session, _context: object, _instances: object) -> None:
    pending = [o for o in session.new if isinstance(o, Attested)]
    for obj in session.dirty:
        if isinstance(obj, Attested) and _facts_changed(obj):
            if not obj.facts_intact:  # never re-stamp (launder) facts that failed their check
                raise IntegrityFailure(type(obj).__tablename__, str(_values(obj).get("id", "")))  # type: ignore[attr-defined]
            pending.append(obj)
    if not pending:
        return
    attestor = attestor_of(session)
    for obj in pending:
        _apply_defaults(obj)
        attestor.stamp_object(obj)


def _facts_changed(obj: Attested) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in _columns(type(obj)))
