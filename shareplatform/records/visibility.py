"""Which records of a case a user may see, as one SQL condition.

The access layer answers which classes of record (label, another agency's ORCON or not, authored by
the user or not, record types) an act is allowed on for the user's relation to the case
(AccessLayer.allowed_classes); this module turns those classes into a WHERE clause over the
records table, so listings and counts filter in the query and never fetch what they may not show.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select

from ..access.facts import CaseRef, relation
from ..access.vocabulary import RECORD_KINDS, RECORD_PREFIX, Act
from ..context import Ctx
from ..crypto.models import DataKey
from .models import Record


def record_filter(ctx: Ctx, case: CaseRef, act: Act = Act.READ) -> ColumnElement[bool]:
    """SQL condition selecting exactly the records of `case` that `act` is allowed on."""
    rel = relation(ctx.subject, case)
    # crypto-shredded rows are unreadable for ever: never listed or counted. The shredded keys
    # are few and have their own partial index, so this stays a small lookup at any scale.
    live = Record.data_key_id.not_in(select(DataKey.id).where(DataKey.wrapped.is_(None)))
    foreign = and_(
        Record.caveats.contains("ORCON"),
        Record.originating_agency != ctx.subject.agency.value,
        Record.released_at.is_(None),
    )
    mine = Record.author_id == ctx.subject.user_id
    terms = [
        and_(
            Record.classification == allowed.label.marking,
            foreign if allowed.orcon_foreign else ~foreign,
            mine if allowed.author else ~mine,
            Record.record_type.in_([k.removeprefix(RECORD_PREFIX) for k in allowed.kinds]),
        )
        for allowed in ctx.access.allowed_classes(ctx.session, ctx.subject, rel, act, RECORD_KINDS)
    ]
    return and_(live, or_(*terms)) if terms else false()
