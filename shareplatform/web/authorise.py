"""The one route check, for both faces (web pages and the JSON API).

Every route declares a Permission (shareplatform/access/vocabulary.py). Before any view runs,
the signed-in user's role must be allowed the permission's act on its kind of object at its label
for some case (a capability check; each object is decided again when it is read). A refusal is
audited as "route.deny" and raised as NotPermitted, which each face answers in its own form.
"""

from __future__ import annotations

from ..access.facts import Facts
from ..access.vocabulary import Permission
from ..audit.log import Event
from ..context import Ctx
from ..domain.errors import NotPermitted


def authorise(ctx: Ctx, permission: Permission, endpoint: str, message: str | None = None) -> None:
    """Allow, or audit the refusal and raise NotPermitted (with `message`, or the explanation)."""
    if permission.is_public or permission.pre_mfa or permission.signed_in_only:
        return
    need = permission.need
    assert need.kind is not None and need.act is not None
    access = ctx.access
    if access.can(ctx.session, ctx.subject, need.kind, need.act, need.label):
        return
    facts = Facts(need.kind, need.label, team=True, panel=True, oversight=True)
    decision = access.decide(ctx.session, ctx.subject, facts, need.act)
    access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="route.deny",
            object_type="route",
            outcome="deny",
            label=need.label,
            object_id=endpoint,
            reason=decision.explanation,
        ),
    )
    raise NotPermitted(message or _explain(decision.explanation))


def _explain(explanation: str) -> str:
    text = explanation.removeprefix("denied: ").strip()
    return (
        (text[:1].upper() + text[1:] + ".")
        if text
        else "Your role does not give access to this page."
    )
