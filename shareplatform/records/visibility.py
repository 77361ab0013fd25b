"""Which records of a case a user may see, as one SQL condition.

The access layer answers which classes of record (label, another agency's ORCON or not, authored by
the user or not, record types) an act is allowed on for the user's relation to the case
(AccessLayer.allowed_classes); this module turns those classes into a WHERE clause over the
records table, so listings and counts filter in the query and never fetch what they may not show.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, false, or_, select

from ..access.facts import CaseRef, relation
from ..access.kernel import AllowedClass
from ..access.vocabulary import RECORD_KINDS, RECORD_PREFIX, Act
from ..context import Ctx
from ..crypto.models import DataKey
from .models import Record

_BUILT: dict[tuple[object, ...], ColumnElement[bool]] = {}


def record_filter(ctx: Ctx, case: CaseRef, *acts: Act) -> ColumnElement[bool]:
    """SQL condition selecting exactly the records of `case` that any of `acts` (default: read)
    is allowed on.

    The condition depends only on the allowed classes, the user's agency and id, so each distinct
    one is built once per process (statements are immutable and safe to share)."""
    rel = relation(ctx.subject, case)
    classes = tuple(
        dict.fromkeys(
            allowed
            for act in acts or (Act.READ,)
            for allowed in ctx.access.allowed_classes(
                ctx.session, ctx.subject, rel, act, RECORD_KINDS
            )
        )
    )
    key = (classes, ctx.subject.agency.value, ctx.subject.user_id)
    built = _BUILT.get(key)
    if built is None:
        if len(_BUILT) > 10_000:
            _BUILT.clear()
        built = _BUILT[key] = _condition(classes, ctx.subject.agency.value, ctx.subject.user_id)
    return built


def _condition(
    classes: tuple[AllowedClass, ...], agency: str, user_id: uuid.UUID
) -> ColumnElement[bool]:
    # crypto-shredded rows are unreadable for ever: never listed or counted. The shredded keys
    # are few and have their own partial index, so this stays a small lookup at any scale.
    live = Record.data_key_id.not_in(select(DataKey.id).where(DataKey.wrapped.is_(None)))
    foreign = and_(
        Record.caveats.contains("ORCON"),
        Record.originating_agency != agency,
        Record.released_at.is_(None),
    )
    mine = Record.author_id == user_id
    terms = [
        and_(
            Record.classification == allowed.label.marking,
            foreign if allowed.orcon_foreign else ~foreign,
            mine if allowed.author else ~mine,
            Record.record_type.in_([k.removeprefix(RECORD_PREFIX) for k in allowed.kinds]),
        )
        for allowed in classes
    ]
    return and_(live, or_(*terms)) if terms else false()
