"""Reading the demo data set as a user, in a transaction that is always rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from shareplatform.cases.models import Case
from shareplatform.context import Ctx
from tests.factories import ctx_for


@contextmanager
def reading(platform, username: str) -> Iterator[Ctx]:  # type: ignore[no-untyped-def]
    session = platform.db.sessions()
    try:
        session.begin()
        yield ctx_for(platform, session, username)
    finally:
        session.rollback()
        session.close()


def case_by_ref(ctx: Ctx, reference: str) -> Case:
    case = ctx.session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    return case
