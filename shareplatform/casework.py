"""Access helpers shared by the case-work services (lifecycle, MAPPA): case facts, demands."""

from __future__ import annotations

from .access.facts import Facts, relation
from .audit.log import Event
from .cases.models import Case
from .cases.services import case_ref
from .context import Ctx
from .domain.errors import NotPermitted


def case_facts(
    ctx: Ctx,
    case: Case,
    kind: str,
    label: str,
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


def demand_facts(ctx: Ctx, facts: Facts, act: str, event: Event, message: str) -> None:
    """Decide; on refusal audit the denial and raise a message the user can act on."""
    decision = ctx.access.decide(ctx.session, ctx.subject, facts, act)
    if decision.allowed:
        return
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            event.action,
            event.object_type,
            "deny",
            facts.label,
            event.object_id,
            event.case_id,
            decision.explanation,
            event.detail,
        ),
    )
    raise NotPermitted(message)
