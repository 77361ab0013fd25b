"""Reading the demo data set as a user, in a transaction that is always rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from markupsafe import escape
from sqlalchemy import select

from shareplatform.cases.models import Case
from shareplatform.context import Ctx
from shareplatform.demo.seed import SecretItem, secret_material
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


def secret_items(platform) -> list[SecretItem]:  # type: ignore[no-untyped-def]
    """The demo's SECRET objects, found by label and id (shareplatform/demo/seed.py)."""
    with platform.transaction() as session:
        return secret_material(session)


def shows_secret(page: str, items: list[SecretItem], ids: bool = False) -> list[SecretItem]:
    """The SECRET objects whose text (raw or HTML-escaped) appears in a page or JSON body; with
    `ids`, also those whose id does (a link or an API item naming the object). An action's id is
    not counted: its owner reaches it through the sanitised break-out, by design."""
    return [
        i
        for i in items
        if i.text in page
        or str(escape(i.text)) in page
        or (ids and i.kind != "action" and (str(i.id) in page or i.id.hex in page))
    ]
