"""The one route check, for both faces (web pages and the JSON API).

Every route declares a Permission (shareplatform/access/vocabulary.py). Before any view runs,
the signed-in user's role must be allowed the permission's act on its kind of object at its label
for some case (a capability check; each object is decided again when it is read). A refusal is
audited as "route.deny" and raised as NotPermitted, which each face answers in its own form.

A route whose path names an object (a case, record, decision...) refuses in terms of the object:
when the user's role can never see objects of that kind, the refusal is NotFound, exactly as for
an id that does not exist (docs/domain.md: nothing reveals an object the user may not see);
otherwise an honest 403 that names no label, corridor or vetting.
"""

from __future__ import annotations

from flask import has_request_context, request

from ..access.facts import Facts
from ..access.vocabulary import RECORD_KINDS, Act, Kind, ObjectKind, Permission
from ..audit.log import Event
from ..context import Ctx
from ..domain.errors import NotFound, NotPermitted
from ..domain.labels import Classification

# URL parameters that name an object, and the kinds a user must be able to read to know of one
OBJECT_PARAMS: dict[str, tuple[ObjectKind, ...]] = {
    "case_id": (Kind.CASE,),
    "record_id": RECORD_KINDS,
    "decision_id": (Kind.DECISION,),
    "meeting_id": (Kind.MEETING_OPEN, Kind.MEETING_CLOSED),
    "action_id": (Kind.ACTION, Kind.ACTION_STATUS),
    "plan_id": (Kind.PLAN,),
    "checklist_id": (Kind.CHECKLIST,),
    "grant_id": (Kind.BREAK_GLASS_REVIEW,),
}
ABOUT_AN_OBJECT = "Your role does not allow this action."


def authorise(ctx: Ctx, permission: Permission, endpoint: str, message: str | None = None) -> None:
    """Allow, or audit the refusal and raise NotPermitted (with `message`, or the explanation);
    NotFound instead on a route naming an object the user's role can never see."""
    if permission.is_public or permission.pre_mfa or permission.signed_in_only:
        return
    need = permission.need
    assert need.kind is not None and need.act is not None
    if ctx.access.can(ctx.session, ctx.subject, need.kind, need.act, need.label):
        return
    access = ctx.access
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
    kinds = _object_kinds()
    if kinds is None:
        raise NotPermitted(message or _explain(decision.explanation))
    if not any(_may_see(ctx, kind) for kind in kinds):
        raise NotFound()
    raise NotPermitted(message or ABOUT_AN_OBJECT)


def _may_see(ctx: Ctx, kind: ObjectKind) -> bool:
    return any(
        ctx.access.can(ctx.session, ctx.subject, kind, Act.READ, label) for label in Classification
    )


def _object_kinds() -> tuple[ObjectKind, ...] | None:
    """The kinds of the object this request's path names, or None for a route naming none."""
    if not has_request_context():
        return None
    names = [p for p in (request.view_args or {}) if p in OBJECT_PARAMS]
    return OBJECT_PARAMS[names[0]] if names else None


def _explain(explanation: str) -> str:
    text = explanation.removeprefix("denied: ").strip()
    return (
        (text[:1].upper() + text[1:] + ".")
        if text
        else "Your role does not give access to this page."
    )
