"""Access helpers shared by the case-work services (MAPPA, lifecycle): what policy sees of an
object on a case, and the one `may` / `demand` pair, keyword-only so that kind, act and label
can never be passed in the wrong order."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from .access.facts import Facts, relation
from .access.vocabulary import Act, ObjectKind
from .audit.log import Event
from .cases.models import Case
from .cases.services import case_ref
from .context import Ctx
from .domain.errors import NotPermitted
from .domain.labels import Classification, Label
from .domain.rules import lowers

OS = Classification.OFFICIAL_SENSITIVE
SECRET = Classification.SECRET
V = TypeVar("V", bound="Versioned")


def case_facts(
    ctx: Ctx,
    case: Case,
    kind: ObjectKind,
    label: Classification,
    *,
    author: bool = False,
    owner: bool = False,
    orcon_foreign: bool = False,
) -> Facts:
    """What policy sees of an object of `kind` on this case, from the user's relation to it."""
    return Facts.on(
        kind,
        label,
        relation(ctx.subject, case_ref(case)),
        author=author,
        owner=owner,
        orcon_foreign=orcon_foreign,
    )


def may(
    ctx: Ctx,
    case: Case,
    *,
    kind: ObjectKind,
    act: Act = Act.READ,
    label: Classification = OS,
    owner: bool = False,
) -> bool:
    """Would policy let the user `act` on an object of `kind` at `label` on this case?"""
    facts = case_facts(ctx, case, kind, label, owner=owner)
    return ctx.access.decide(ctx.session, ctx.subject, facts, act).allowed


def demand(
    ctx: Ctx,
    case: Case,
    *,
    kind: ObjectKind,
    act: Act,
    event: Event,
    message: str,
    label: Classification = OS,
    owner: bool = False,
) -> None:
    """Decide; on refusal audit the denial and raise a message the user can act on."""
    demand_facts(ctx, case_facts(ctx, case, kind, label, owner=owner), act, event, message)


def demand_facts(ctx: Ctx, facts: Facts, act: Act, event: Event, message: str) -> None:
    """Decide on given facts; on refusal audit the denial and raise `message`."""
    decision = ctx.access.decide(ctx.session, ctx.subject, facts, act)
    if decision.allowed:
        return
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action=event.action,
            object_type=event.object_type,
            outcome="deny",
            label=facts.label,
            object_id=event.object_id,
            case_id=event.case_id,
            reason=decision.explanation,
            detail=event.detail,
        ),
    )
    raise NotPermitted(message)


class Versioned(Protocol):
    """A version of an append-only object: it names the version it supersedes."""

    supersedes_id: uuid.UUID | None

    @property
    def label(self) -> Label: ...

    @property
    def facts_intact(self) -> bool: ...


def originators(
    session: Session, version: V, new: Label, author: Callable[[V], uuid.UUID]
) -> set[uuid.UUID | None]:
    """Who wrote a version of this object, back through its supersessions, at a label `new`
    would lower: a downgrade lowers their material, so it is theirs alone to make (docs/domain.md,
    "Labels"). Correcting someone's SECRET note at SECRET does not make it yours to downgrade.
    A version whose stamp fails counts as nobody's (None), so the downgrade is refused."""
    found: set[uuid.UUID | None] = set()
    row: V | None = version
    while row is not None:
        if not row.facts_intact:
            found.add(None)
        elif lowers(row.label, new):
            found.add(author(row))
        row = session.get(type(row), row.supersedes_id) if row.supersedes_id else None
    return found
