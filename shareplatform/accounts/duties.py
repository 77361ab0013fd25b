"""Separation of duties for user administration, as plain rules (no database, no Flask).

An administrator acting alone must not be able to reach SECRET material or another person's
account. So: nobody administers their own account, team or panel places; and a change that
widens what an account can reach (a corridor role, an administrator role, higher clearance, a
corridor user's unit), a MAPPA panel place, or the recovery of such an account waits for a second,
different administrator who is not its subject (docs/adr/0008-account-recovery-and-separation-
of-duties.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from ..domain.agencies import Role, Tier
from ..domain.errors import NotPermitted
from ..domain.labels import Classification
from ..domain.vetting import Vetting, VettingStatus


class DutyRefused(NotPermitted):
    """Separation of duties refuses this; the message says who may do it instead."""


@dataclass(frozen=True)
class Profile:
    """What decides how far an account reaches."""

    role: str
    vetting: str
    vetting_expires: date | None
    nsd_unit: str | None
    ct_unit: str | None


def privileged(role: str) -> bool:
    """A role in the sterile corridor, or one that administers the platform itself."""
    parsed = Role.parse(role)
    return parsed.in_corridor or parsed.info.tier is Tier.PLATFORM


def _rank(clearance: Classification | None) -> int:
    return 0 if clearance is None else int(clearance)


def clearance_on(profile: Profile, today: date) -> Classification | None:
    return VettingStatus(Vetting.parse(profile.vetting), profile.vetting_expires).clearance(today)


def why_two_administrators(before: Profile | None, after: Profile, today: date) -> list[str]:
    """Why a change from `before` (None: a new account) to `after` needs a second administrator
    (empty: one administrator may make it)."""
    reasons = []
    role = Role.parse(after.role)
    if privileged(after.role) and (before is None or before.role != after.role):
        where = "the sterile corridor" if role.in_corridor else "an administrator role"
        reasons.append(f"it puts the user in {where} ({role.title})")
    if (
        before is not None
        and role.in_corridor
        and (before.nsd_unit, before.ct_unit) != (after.nsd_unit, after.ct_unit)
    ):
        reasons.append("it moves a corridor user to another unit")
    # a new account may be cleared up to OFFICIAL-SENSITIVE by one administrator; SECRET takes two
    old = clearance_on(before, today) if before else Classification.OFFICIAL_SENSITIVE
    new = clearance_on(after, today)
    if _rank(new) > _rank(old):
        reasons.append(f"it raises their clearance to {new.marking if new else 'none'}")
    return reasons


def refuse_self(actor: uuid.UUID, target: uuid.UUID | None, what: str) -> None:
    """Nobody administers their own account."""
    if target is not None and actor == target:
        raise DutyRefused(f"You cannot {what} for your own account: ask another administrator.")


def check_approver(approver: uuid.UUID, requested_by: uuid.UUID, target: uuid.UUID | None) -> None:
    """The second administrator is neither the one who asked nor the person it is about."""
    if approver == requested_by:
        raise DutyRefused("You made this request: a different administrator must approve it.")
    if target is not None and approver == target:
        raise DutyRefused("This request is about you: another administrator must approve it.")
