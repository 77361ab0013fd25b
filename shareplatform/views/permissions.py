"""Route permissions: every view declares one, visibly, as a decorator.

    @requires("case:read")        kind:action, checked against the access policy for the user's role
    @requires(SIGNED_IN)          any signed-in user (their own account pages, the home page)
    @public                       no sign-in (the sign-in pages, assets)

The check itself runs centrally, before the view (see shell.py), and fails closed: a route with
no declaration answers 403 and tests/functional/test_web_permissions.py fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..access.policy_files import ACTIONS, _valid_kind
from ..domain.labels import Classification

F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__sp_permission__"


@dataclass(frozen=True)
class Permission:
    """A route capability: may this role do `action` on `kind` at all (at `label`)."""

    name: str
    kind: str = ""
    action: str = ""
    label: str = Classification.OFFICIAL_SENSITIVE.marking

    @property
    def is_public(self) -> bool:
        return self.name == "public"

    @property
    def signed_in_only(self) -> bool:
        return self.name == "signed-in"

    # A pending second-factor session may reach only the routes marked with this
    @property
    def pre_mfa(self) -> bool:
        return self.name == "pre-mfa"


PUBLIC = Permission("public")
SIGNED_IN = Permission("signed-in")
PRE_MFA = Permission("pre-mfa")

# Names whose policy object differs from the name (e.g. writing any record type).
_ALIASES = {
    "record:write": ("record/CONTACT_OFFICE", "write"),
    "record:read": ("record/CONTACT_OFFICE", "read"),
}


def parse(name: str | Permission, label: str | None = None) -> Permission:
    """'kind:action' checked against the policy vocabulary at import time (typos fail loudly)."""
    if isinstance(name, Permission):
        return name
    if name in ("public", "signed-in", "pre-mfa"):
        return Permission(name)
    if name in _ALIASES:
        kind, action = _ALIASES[name]
    else:
        kind, _, action = name.partition(":")
        if not _valid_kind(kind) or action not in ACTIONS or action == "*":
            raise ValueError(
                f"unknown permission {name!r}: use kind:action from access/policy_files.py"
            )
    return Permission(name, kind, action, label or Classification.OFFICIAL_SENSITIVE.marking)


def requires(name: str | Permission, label: str | None = None) -> Callable[[F], F]:
    permission = parse(name, label)

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, permission)
        return view

    return mark


def public(view: F) -> F:
    setattr(view, ATTRIBUTE, PUBLIC)
    return view


def permission_of(view: object) -> Permission | None:
    return getattr(view, ATTRIBUTE, None)
