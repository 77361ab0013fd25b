"""Separation of duties on a policy change: what one policy administrator may not do alone.

guardrails.py judges what a draft newly lets roles outside the corridor and platform roles read.
The checks here complete the two-person rule: any wider SECRET reading (inside the corridor too),
reading without need-to-know, removing a protective line, touching administrators' own rights, and
taking access away from a whole role or from many users. Like guardrails.py they judge decisions
through PolicyEngine, so group lines, wildcards and deny-wins count; to stay fast they judge only
the roles, kinds and acts that the changed lines can reach.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..access.enforcer import PolicyEngine
from ..access.facts import Facts, SubjectFacts
from ..access.policy_files import Rule
from ..access.vocabulary import parse_kind
from ..domain.agencies import PLATFORM_ROLES, Role
from ..domain.labels import Classification
from .guardrails import RELATIONS, Flag, changed_lines, gains, reach, role_classes
from .whatif import WhatIf

SECRET_READ_WIDENED = "secret_read_widened"  # noqa: S105 (a flag code, not a secret)
NEED_TO_KNOW_WEAKENED = "need_to_know_weakened"
PROTECTIVE_LINE_REMOVED = "protective_line_removed"
ADMIN_RIGHTS_CHANGED = "admin_rights_changed"
ROLE_REMOVED_FROM_CASES = "role_removed_from_cases"
WHOLE_ROLE_LOSES_ACCESS = "whole_role_loses_access"
MANY_USERS_LOSE_ACCESS = "many_users_lose_access"

DEFAULT_MAX_USERS_LOST = 10  # shareplatform/config.py POLICY_MAX_USERS_LOST

# Acts that disclose case material (reading it, learning that it exists, taking it away) or
# put material into a case.
DISCLOSING = ("read", "notice", "export")
CASE_ACTS = (*DISCLOSING, "write")
NEED_TO_KNOW = frozenset({"case team", "MAPPA panel", "oversight"})  # names in RELATIONS
# Administration: the platform roles and their group, and what they administer.
ADMIN_NAMES = frozenset({*(r.value for r in PLATFORM_ROLES), "platform"})
ADMIN_OBJECTS = frozenset({"policy", "user", "audit"})
ADMIN_RIGHTS: tuple[tuple[str, str], ...] = (
    ("policy", "read"),
    ("policy", "edit"),
    ("policy", "approve"),
    ("user", "manage"),
    ("team", "manage"),
    ("audit", "read"),
    ("audit", "export"),
    ("audit", "verify"),
)
# Groups whose membership carries a deny: leaving them lifts the sterile corridor or
# separation of duties from a role.
PROTECTIVE_GROUPS = {
    "frontline": "the sterile corridor",
    "specialist": "the sterile corridor",
    "platform": "separation of duties",
}
TWO = "so a second policy administrator must agree."

Grant = tuple[str, str, str, str, str]  # role, kind, label, relation, act


def _cut(items: list[str], limit: int = 12) -> tuple[str, ...]:
    more = (f"... and {len(items) - limit} more",) if len(items) > limit else ()
    return tuple(items[:limit]) + more


def _describe(grants: Iterable[Grant]) -> tuple[str, ...]:
    return _cut([f"{r} may {a} {k} at {lbl} ({rel})" for r, k, lbl, rel, a in sorted(grants)])


def _protection(rule: Rule) -> str:
    """What a line protects, or "" for a line whose removal only narrows access."""
    if rule.ptype == "g":
        return PROTECTIVE_GROUPS.get(rule.values[1], "")
    sub, _obj, _act, label, condition, effect = rule.values
    if effect != "deny" or condition == "uncleared":  # clearance: guardrails.py has its own flag
        return ""
    if condition == "orcon_foreign":
        return "ORCON"
    if sub in ADMIN_NAMES:
        return "separation of duties"
    if label == Classification.SECRET.marking:
        return "the sterile corridor"
    return "a handling rule"


def _touches_admin(rule: Rule) -> bool:
    if rule.ptype == "g":
        return bool(set(rule.values) & ADMIN_NAMES)
    sub, obj, act, *_ = rule.values
    return sub in ADMIN_NAMES or obj in ADMIN_OBJECTS or (obj == "team" and act == "manage")


def _admin_rights(
    engine: PolicyEngine, roles: dict[Role, tuple[Role, ...]]
) -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()
    for role, alike in roles.items():
        sub = SubjectFacts(role.value, Classification.SECRET.marking)
        for kind, act in ADMIN_RIGHTS:
            for label in Classification.markings():
                facts = Facts(parse_kind(kind), Classification.parse(label))
                if engine.decide(sub, facts, act).allowed:
                    out.update((r.value, kind, act) for r in alike)
    return out


def _opens_cases(engine: PolicyEngine, role: Role) -> bool:
    sub = SubjectFacts(role.value, Classification.SECRET.marking)
    label = Classification.OFFICIAL_SENSITIVE
    return any(
        engine.decide(sub, Facts(parse_kind("case"), label, **flags), "read").allowed
        for _, flags in RELATIONS
    )


def flags(
    live: list[Rule], draft: list[Rule], live_engine: PolicyEngine, draft_engine: PolicyEngine
) -> list[Flag]:
    """The policy-level duties checks (guardrails.flags holds the others)."""
    out: list[Flag] = []
    scope = reach(live, draft)
    roles = role_classes(sorted(scope.roles), live, draft)
    gained = gains(
        live, draft, live_engine, draft_engine, scope.roles, Classification.markings(), CASE_ACTS
    )
    secret = Classification.SECRET.marking
    wider = {
        g
        for g in gained
        if g[2] == secret
        and g[4] in DISCLOSING
        and (Role.parse(g[0]).in_corridor or g[4] != "read")  # else secret_outside_corridor
    }
    if wider:
        out.append(
            Flag(
                SECRET_READ_WIDENED,
                "This change widens who may read SECRET material. SECRET is read only by corridor "
                f"managers with need-to-know on the case, {TWO}",
                _describe(wider),
            )
        )
    unrelated = {g for g in gained if g[3] not in NEED_TO_KNOW}
    if unrelated:
        out.append(
            Flag(
                NEED_TO_KNOW_WEAKENED,
                "This change lets a role reach case material without need-to-know (without being "
                "on the case team, its MAPPA panel or having oversight of the case). Need-to-know "
                f"is a core protection, {TWO}",
                _describe(unrelated),
            )
        )
    draft_keys = {r.key() for r in draft}
    protective = [(r, why) for r in live if r.key() not in draft_keys and (why := _protection(r))]
    if protective:
        out.append(
            Flag(
                PROTECTIVE_LINE_REMOVED,
                "This change removes or alters a protective line (a deny or group line that "
                "enforces ORCON, the sterile corridor, separation of duties or a handling rule). "
                f"Weakening a protection is not for one administrator alone, {TWO}",
                tuple(f"{r.describe()} ({why})" for r, why in protective),
            )
        )
    touching = [r.describe() for r in changed_lines(live, draft) if _touches_admin(r)]
    # roles out of reach are judged by the same lines before and after: no need to ask
    before, after = _admin_rights(live_engine, roles), _admin_rights(draft_engine, roles)
    rights = [f"{r} may {a} {k}" for r, k, a in sorted(after - before)]
    rights += [f"{r} may no longer {a} {k}" for r, k, a in sorted(before - after)]
    if touching or rights:
        out.append(
            Flag(
                ADMIN_RIGHTS_CHANGED,
                "This change touches administrators' own rights (an administrative role or "
                "group, or the administration of policy, users or the audit log). An "
                f"administrator must not change their own powers alone, {TWO}",
                _cut([*touching, *rights]),
            )
        )
    removed = sorted(
        role.value
        for role in sorted(scope.roles)
        if _opens_cases(live_engine, role) and not _opens_cases(draft_engine, role)
    )
    if removed:
        out.append(
            Flag(
                ROLE_REMOVED_FROM_CASES,
                "This change removes a whole role from every case: its holders could no longer "
                f"open any case page. Taking a role off casework affects everyone who holds it, "
                f"{TWO}",
                tuple(f"{r} could no longer open any case" for r in removed),
            )
        )
    return out


def whatif_flags(result: WhatIf, max_users_lost: int) -> list[Flag]:
    """Checks on who would lose access over the real users and records."""
    out: list[Flag] = []
    losers: dict[str, set[str]] = {}
    for change in result.losses:
        losers.setdefault(change.role, set()).add(change.username)
    whole = sorted(
        role for role, users in losers.items() if len(users) >= result.role_users.get(role, 0)
    )
    if whole:
        out.append(
            Flag(
                WHOLE_ROLE_LOSES_ACCESS,
                "This change removes access from every active user who holds a role. Taking "
                f"access away from a whole role can stop casework, {TWO}",
                tuple(f"every {r} would lose access" for r in whole),
            )
        )
    users = set().union(*losers.values()) if losers else set()
    if len(users) > max_users_lost:
        out.append(
            Flag(
                MANY_USERS_LOSE_ACCESS,
                f"This change removes access for more than {max_users_lost} users (the most "
                f"one administrator may take away alone, POLICY_MAX_USERS_LOST), {TWO}",
                tuple(f"{r} users would lose access" for r in sorted(losers)),
            )
        )
    return out
