"""Guardrails on a policy change, judged by what the draft allows that the live policy does not.

Flagged changes need a second administrator's approval (two-person rule); a change that would
leave no policy administrator able to edit the policy is refused outright. Checks run through the
same PolicyEngine and Facts as the kernel, so they see group lines, wildcards and deny-wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from casbin.util import key_match

from ..access import policy_files
from ..access.enforcer import PolicyEngine
from ..access.facts import Facts, SubjectFacts, clearance_dominates
from ..access.policy_files import Rule
from ..access.vocabulary import Kind, parse_kind
from ..domain.agencies import PLATFORM_ROLES, Role
from ..domain.cases import RecordType
from ..domain.labels import Classification

# Kinds that carry case content (everything a case holds, as opposed to policy, users and audit).
NOT_CONTENT = frozenset({"*", "record/*", "audit", "policy", "user", "dashboard"})
CONTENT_KINDS: tuple[str, ...] = tuple(f"record/{t.value}" for t in RecordType) + tuple(
    k for k in policy_files.KINDS if k not in NOT_CONTENT
)
# One fact set per condition: each condition in facts.CONDITIONS turns on one flag (or an OR of
# flags), so these are enough to find any situation in which a line can allow.
RELATIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("no relation", {}),
    ("case team", {"team": True}),
    ("MAPPA panel", {"panel": True}),
    ("oversight", {"oversight": True}),
    ("break-glass", {"break_glass": True}),
    ("author", {"author": True}),
    ("owner", {"owner": True}),
    ("another agency's ORCON", {"orcon_foreign": True}),
)
ADMIN_FACTS = Facts(Kind.POLICY, Classification.OFFICIAL)

SECRET_OUTSIDE_CORRIDOR = "secret_outside_corridor"  # noqa: S105 (a flag code, not a secret)
CLEARANCE_CHECK_REMOVED = "clearance_check_removed"
ADMIN_READS_CONTENT = "admin_reads_content"


@dataclass(frozen=True)
class Flag:
    code: str
    message: str
    examples: tuple[str, ...] = ()


Exposure = tuple[str, str, str, str]  # role, kind, label, relation


def kind_classes(rules: Iterable[Rule]) -> dict[str, tuple[str, ...]]:
    """Content kinds that no policy line tells apart, so one representative is judged for all."""
    patterns = sorted({r.values[1] for r in rules if r.ptype == "p"})
    classes: dict[tuple[bool, ...], list[str]] = {}
    for kind in CONTENT_KINDS:
        classes.setdefault(tuple(key_match(kind, p) for p in patterns), []).append(kind)
    return {kinds[0]: tuple(kinds) for kinds in classes.values()}


def _names(rules: list[Rule], role: Role) -> frozenset[str]:
    """The p-line subjects that apply to a role (itself and its groups, transitively)."""
    parents: dict[str, set[str]] = {}
    for r in rules:
        if r.ptype == "g":
            parents.setdefault(r.values[0], set()).add(r.values[1])
    seen, todo = {role.value}, [role.value]
    while todo:
        for group in parents.get(todo.pop(), ()):
            if group not in seen:
                seen.add(group)
                todo.append(group)
    named = {r.values[0] for r in rules if r.ptype == "p"}
    return frozenset(seen & named)


def role_classes(roles: Iterable[Role], *rule_sets: list[Rule]) -> dict[Role, tuple[Role, ...]]:
    """Roles that every policy line treats alike, so one representative is judged for all."""
    classes: dict[tuple[frozenset[str], ...], list[Role]] = {}
    for role in roles:
        classes.setdefault(tuple(_names(rules, role) for rules in rule_sets), []).append(role)
    return {same[0]: tuple(same) for same in classes.values()}


def _exposures(
    engine: PolicyEngine,
    roles: dict[Role, tuple[Role, ...]],
    labels: Iterable[str],
    kinds: dict[str, tuple[str, ...]],
) -> set[Exposure]:
    found: set[Exposure] = set()
    labels = list(labels)
    for role, alike in roles.items():
        sub = SubjectFacts(
            role.value, Classification.SECRET.marking
        )  # best-vetted holder of the role
        for kind, same in kinds.items():
            for label in labels:
                for name, flags in RELATIONS:
                    if engine.decide(
                        sub, Facts(parse_kind(kind), Classification.parse(label), **flags), "read"
                    ).allowed:
                        found.update((r.value, k, label, name) for r in alike for k in same)
    return found


def _describe(exposures: set[Exposure], limit: int = 12) -> tuple[str, ...]:
    items = sorted(exposures)
    shown = tuple(f"{r} may read {k} at {lbl} ({rel})" for r, k, lbl, rel in items[:limit])
    return shown + ((f"... and {len(items) - limit} more",) if len(items) > limit else ())


def _clearance_lines(rules: list[Rule]) -> set[tuple[str, ...]]:
    return {
        r.key()
        for r in rules
        if r.ptype == "p" and r.values[4] == "uncleared" and r.values[5] == "deny"
    }


def flags(
    live: list[Rule], draft: list[Rule], live_engine: PolicyEngine, draft_engine: PolicyEngine
) -> list[Flag]:
    out: list[Flag] = []
    kinds = kind_classes([*live, *draft])
    outside = role_classes([r for r in Role if not r.in_corridor], live, draft)
    secret = [Classification.SECRET.marking]
    new = _exposures(draft_engine, outside, secret, kinds) - _exposures(
        live_engine, outside, secret, kinds
    )
    if new:
        out.append(
            Flag(
                SECRET_OUTSIDE_CORRIDOR,
                "This change lets a role outside the sterile corridor read SECRET material.",
                _describe(new),
            )
        )
    removed = _clearance_lines(live) - _clearance_lines(draft)
    if removed:
        out.append(
            Flag(
                CLEARANCE_CHECK_REMOVED,
                "This change removes the clearance check (the 'uncleared' deny line).",
                tuple(", ".join(k) for k in sorted(removed)),
            )
        )
    platform = role_classes(sorted(PLATFORM_ROLES), live, draft)
    every = Classification.markings()
    new = _exposures(draft_engine, platform, every, kinds) - _exposures(
        live_engine, platform, every, kinds
    )
    if new:
        out.append(
            Flag(
                ADMIN_READS_CONTENT,
                "This change lets an administrator or auditor role read case content.",
                _describe(new),
            )
        )
    return out


def lockout(draft_engine: PolicyEngine, admins: list[SubjectFacts]) -> str:
    """Why the draft would lock every policy administrator out ("" when someone can still edit)."""
    candidates = admins or [SubjectFacts(Role.POLICY_ADMIN.value, Classification.SECRET.marking)]
    for sub in candidates:
        if (
            clearance_dominates(sub.clearance, ADMIN_FACTS.label)
            and draft_engine.decide(sub, ADMIN_FACTS, "edit").allowed
        ):
            return ""
    return (
        "Refused: after this change no policy administrator could edit the policy "
        "(every administrator would be locked out)."
    )
