"""One request path for both faces (GOV.UK pages and the JSON API).

    identify (the accounts feature: cookie session, or bearer token on /api/)
      -> authorise (the route's declared Permission, the same check for both faces)
      -> the view, inside one unit of work
      -> commit before any response leaves (or roll back), then the response

The unit of work is the request's database session. It commits after the view and before the
response is sent, so an audit entry is never lost after plaintext was rendered: if the commit
fails, the rendered response is discarded and an error answers instead. Error handlers roll back
writes that must not stand (invalid input, a crash) and keep the audit entries of refusals.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from flask import Flask, Response, abort, current_app, g, request
from flask.typing import ResponseReturnValue

from ..access.vocabulary import Permission
from ..audit.log import Event
from ..context import Ctx
from ..domain.errors import NotPermitted
from . import db_session, platform
from .authorise import authorise
from .permissions import permission_of

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


@dataclass(frozen=True)
class Principal:
    """Who is making the request, once identified."""

    user_id: uuid.UUID
    mfa_done: bool  # False: a password was accepted, the second factor is still owed
    via: str  # "session" (a cookie) or "token" (a personal API token)


class Identity(Protocol):
    """How requests are identified: provided by the accounts feature at registration."""

    def identify(self, api: bool) -> ResponseReturnValue | None:
        """Set `g.principal` (or leave it None); or answer at once (a refused token, 429)."""
        ...

    def challenge(self, api: bool, pending: bool) -> ResponseReturnValue:
        """The answer when a route needs a signed-in user and there is none (or the second
        factor is still owed): the sign-in page, or a 401 problem on the API."""
        ...


def is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def principal() -> Principal | None:
    return g.get("principal")


def set_identity(app: Flask, identity: Identity) -> None:
    app.extensions["shareplatform_identity"] = identity


def ctx() -> Ctx:
    """The service context for this request's signed-in user, in the request's unit of work."""
    if "ctx" not in g:
        who = principal()
        if who is None or not who.mfa_done:
            abort(401)
        session = db_session()
        today = date.today()
        access = platform().access
        subject = access.subject(session, who.user_id, today)
        if subject.clearance is None:  # vetting lapsed (or the account was disabled) mid-session
            access.record(
                session,
                subject,
                Event(
                    action="request.refused",
                    object_type="route",
                    outcome="deny",
                    object_id=request.endpoint or "",
                    reason="vetting expired or account disabled",
                ),
            )
            raise NotPermitted("Your vetting has expired: access is suspended until it is renewed.")
        g.ctx = Ctx(session, access, subject, platform().indexer, today)
    return g.ctx


# -- the pipeline ---------------------------------------------------------------------------------
def _identify_and_authorise() -> ResponseReturnValue | None:
    if request.endpoint is None:  # no such route: the 404 answer follows
        return None
    view = current_app.view_functions.get(request.endpoint)
    permission: Permission | None = permission_of(view)
    if permission is None:
        log.error("route %s declares no permission: refused", request.endpoint)
        abort(403)
    if permission.is_public:
        return None
    identity: Identity = current_app.extensions["shareplatform_identity"]
    api = is_api()
    g.principal = None
    answer = identity.identify(api)
    if answer is not None:
        return answer
    who = principal()
    if permission.pre_mfa:
        return None if who is not None else identity.challenge(api, pending=False)
    if who is None or not who.mfa_done:
        return identity.challenge(api, pending=who is not None)
    if permission.signed_in_only:
        ctx()  # a lapsed vetting is refused on every route
        return None
    authorise(
        ctx(),
        permission,
        request.endpoint,
        "Your role does not give access to this part of the API." if api else None,
    )
    return None


def _finish_unit_of_work(response: Response) -> Response:
    """Commit the request's work before the response leaves; never send what was not committed."""
    session = g.get("db_session")
    if session is None:
        return response
    if response.status_code >= 500:
        session.rollback()
        return response
    try:
        session.commit()
    except Exception as exc:  # one line, not a traceback: an outage fails every request alike
        from .errors import first_line, unavailable

        log.error(
            "the request's work could not be committed (%s: %s): its response is withheld",
            type(exc).__name__,
            first_line(exc),
        )
        session.rollback()

        return unavailable()
    return response


def init_before(app: Flask) -> None:
    """Identification and authorisation before every view."""
    app.before_request(_identify_and_authorise)


def init_after(app: Flask) -> None:
    """The commit after every view, before anything else touches the response."""
    app.after_request(_finish_unit_of_work)
