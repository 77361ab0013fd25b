"""Route permissions: every route declares one, visibly, as a decorator.

    @requires(Permission.CASE_READ)    a capability checked against the policy for the user's role
    @requires(Permission.SIGNED_IN)    any signed-in user (their own account pages, the home page)
    @public                            no sign-in (the sign-in pages, assets)

The permissions are the typed vocabulary of shareplatform/access/vocabulary.py. The check itself
runs centrally, before the view, and fails closed: a route with no declaration answers 403 and
tests/functional/test_web_pages.py fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..access.vocabulary import Permission

F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__sp_permission__"
PUBLIC = Permission.PUBLIC
SIGNED_IN = Permission.SIGNED_IN
PRE_MFA = Permission.PRE_MFA


def requires(permission: Permission) -> Callable[[F], F]:
    if not isinstance(permission, Permission):
        raise TypeError(f"routes declare a Permission, not {permission!r}")

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, permission)
        return view

    return mark


def public(view: F) -> F:
    setattr(view, ATTRIBUTE, PUBLIC)
    return view


def permission_of(view: object) -> Permission | None:
    return getattr(view, ATTRIBUTE, None)


__all__ = ["ATTRIBUTE", "PRE_MFA", "PUBLIC", "SIGNED_IN", "Permission", "permission_of", "public"]
