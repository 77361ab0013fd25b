"""Guardrails on a policy change, judged by what the draft allows that the live policy does not.

Flagged changes need a second administrator's approval (two-person rule; duties.py holds the
rest of the checks); a change that would leave no policy administrator able to view, edit or
approve the policy is refused outright. Checks run through the
same PolicyEngine and Facts as the kernel, so they see group lines, wildcards and deny-wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from casbin.util import key_match

from ..access import policy_files
from ..access.enforcer import PolicyEngine
from ..access.facts import Facts, SubjectFacts, clearance_dominates, cond
from ..access.policy_files import Rule
from ..access.vocabulary import Act, Kind, parse_kind
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


def kind_classes(
    rules: Iterable[Rule], kinds: Iterable[str] = CONTENT_KINDS
) -> dict[str, tuple[str, ...]]:
    """Content kinds that no policy line tells apart, so one representative is judged for all."""
    patterns = sorted({r.values[1] for r in rules if r.ptype == "p"})
    classes: dict[tuple[bool, ...], list[str]] = {}
    for kind in kinds:
        classes.setdefault(tuple(key_match(kind, p) for p in patterns), []).append(kind)
    return {kinds[0]: tuple(kinds) for kinds in classes.values()}


def role_and_groups(rules: list[Rule], role: Role) -> set[str]:
    """A role's own name and every group it belongs to, following g lines transitively."""
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
    return seen


def _names(rules: list[Rule], role: Role) -> frozenset[str]:
    """The p-line subjects that apply to a role (itself and its groups, transitively)."""
    named = {r.values[0] for r in rules if r.ptype == "p"}
    return frozenset(role_and_groups(rules, role) & named)


def changed_lines(live: list[Rule], draft: list[Rule]) -> list[Rule]:
    """Lines only in the live policy (removed or changed) and only in the draft (added)."""
    before = {r.key() for r in live}
    after = {r.key() for r in draft}
    return [r for r in live if r.key() not in after] + [r for r in draft if r.key() not in before]


@dataclass(frozen=True)
class Reach:
    """The roles, kinds, labels and acts whose decisions the changed lines can alter.

    A decision depends only on the lines that match it; when none of those changed (and the
    role's groups did not), live and draft decide alike, so only what is in reach is judged."""

    roles: frozenset[Role]
    kinds: tuple[str, ...]
    labels: frozenset[str]
    acts: frozenset[str]


ALL_ACTS = frozenset(a.value for a in Act)


def reach(live: list[Rule], draft: list[Rule]) -> Reach:
    changed = changed_lines(live, draft)
    policy = [r for r in changed if r.ptype == "p"]
    subjects = {r.values[0] for r in policy}
    roles = frozenset(
        role
        for role in Role
        if "*" in subjects
        or (_names(live, role) | _names(draft, role)) & subjects
        or _names(live, role) != _names(draft, role)
    )
    if any(r.ptype == "g" for r in changed):  # a group line moves whole roles: judge it all
        return Reach(roles, CONTENT_KINDS, frozenset(Classification.markings()), ALL_ACTS)
    kinds = tuple(k for k in CONTENT_KINDS if any(key_match(k, r.values[1]) for r in policy))
    labels = {r.values[3] for r in policy}
    acts = {r.values[2] for r in policy}
    return Reach(
        roles,
        kinds,
        frozenset(Classification.markings()) if "*" in labels else frozenset(labels),
        ALL_ACTS if "*" in acts else frozenset(acts),
    )


def role_classes(roles: Iterable[Role], *rule_sets: list[Rule]) -> dict[Role, tuple[Role, ...]]:
    """Roles that every policy line treats alike, so one representative is judged for all."""
    classes: dict[tuple[frozenset[str], ...], list[Role]] = {}
    for role in roles:
        classes.setdefault(tuple(_names(rules, role) for rules in rule_sets), []).append(role)
    return {same[0]: tuple(same) for same in classes.values()}


Situation = tuple[str, str, str, str, str]  # role, kind, label, relation, act
BEST_VETTED = Classification.SECRET.marking  # each role is judged as its best-vetted holder


def _relevant(line: Rule, names: frozenset[str], kind: str, label: str, act: str) -> bool:
    sub, obj, line_act, line_label, _, _ = line.values
    return (
        (sub == "*" or sub in names)
        and key_match(kind, obj)
        and line_act in ("*", act)
        and line_label in ("*", label)
    )


def gains(
    live: list[Rule],
    draft: list[Rule],
    live_engine: PolicyEngine,
    draft_engine: PolicyEngine,
    roles: Iterable[Role],
    labels: Iterable[str],
    acts: Iterable[str],
) -> set[Situation]:
    """Situations of `roles` on content that the draft allows and the live policy does not.

    Deny wins, so a situation can only open where an added allow line or a removed deny line
    applies to it, or where the role's groups changed: only those are put to the engines (one
    representative per class of roles and kinds that every line treats alike)."""
    changed = changed_lines(live, draft)
    before = {r.key() for r in live}
    opening = [
        r for r in changed if r.ptype == "p" and (r.values[5] == "allow") == (r.key() not in before)
    ]
    classes = role_classes(roles, live, draft)
    kinds = kind_classes([*live, *draft])
    labels, acts = list(labels), list(acts)
    found: set[Situation] = set()
    for role, alike in classes.items():
        names = _names(live, role) | _names(draft, role)
        regrouped = _names(live, role) != _names(draft, role)
        sub = SubjectFacts(role.value, BEST_VETTED)
        for kind, same in kinds.items():
            for label in labels:
                for act in acts:
                    lines = [r for r in opening if _relevant(r, names, kind, label, act)]
                    if not lines and not regrouped:
                        continue
                    for name, flags in RELATIONS:
                        facts = Facts(parse_kind(kind), Classification.parse(label), **flags)
                        if not regrouped and not any(cond(r.values[4], sub, facts) for r in lines):
                            continue
                        if (
                            draft_engine.decide(sub, facts, act).allowed
                            and not live_engine.decide(sub, facts, act).allowed
                        ):
                            found.update(
                                (r.value, k, label, name, act) for r in alike for k in same
                            )
    return found


def _exposures(found: set[Situation]) -> set[Exposure]:
    return {(r, k, lbl, rel) for r, k, lbl, rel, _ in found}


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
    engines = (live, draft, live_engine, draft_engine)
    outside = [r for r in Role if not r.in_corridor]
    new = _exposures(gains(*engines, outside, [Classification.SECRET.marking], ["read"]))
    if new:
        out.append(
            Flag(
                SECRET_OUTSIDE_CORRIDOR,
                "This change lets a role outside the sterile corridor read SECRET material. Only "
                "corridor managers may ever read SECRET, so a second policy administrator must "
                "agree.",
                _describe(new),
            )
        )
    removed = _clearance_lines(live) - _clearance_lines(draft)
    if removed:
        out.append(
            Flag(
                CLEARANCE_CHECK_REMOVED,
                "This change removes the clearance check (the 'uncleared' deny line), which keeps "
                "everyone from material above their vetting, so a second policy administrator must "
                "agree.",
                tuple(", ".join(k) for k in sorted(removed)),
            )
        )
    new = _exposures(gains(*engines, sorted(PLATFORM_ROLES), Classification.markings(), ["read"]))
    if new:
        out.append(
            Flag(
                ADMIN_READS_CONTENT,
                "This change lets an administrator or auditor role read case content. "
                "Administrators never read casework by virtue of their role (separation of "
                "duties), so a second policy administrator must agree.",
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
        "(every administrator would be locked out, and nobody could undo the change). "
        "It cannot be applied, even with a second administrator's approval."
    )


# What an administrator needs to run policy administration at all, as the pages ask it
# (shareplatform/access/vocabulary.py Permission.POLICY_READ, POLICY_EDIT, POLICY_APPROVE).
ADMIN_DUTIES = (
    ("read", "view the policy pages"),
    ("edit", "edit the policy"),
    ("approve", "approve another administrator's change"),
)


def pages_lockout(
    live_engine: PolicyEngine, draft_engine: PolicyEngine, admins: list[SubjectFacts]
) -> str:
    """Why the draft would take policy administration away from every administrator ("" if not).

    Judged like `lockout`, through the engine, so deny lines, group lines and wildcards all count;
    only duties some administrator holds today are checked, so an unusual live policy still edits.
    """
    candidates = admins or [SubjectFacts(Role.POLICY_ADMIN.value, Classification.SECRET.marking)]

    def anyone(engine: PolicyEngine, act: str) -> bool:
        return any(
            clearance_dominates(sub.clearance, ADMIN_FACTS.label)
            and engine.decide(sub, ADMIN_FACTS, act).allowed
            for sub in candidates
        )

    lost = [
        what
        for act, what in ADMIN_DUTIES
        if anyone(live_engine, act) and not anyone(draft_engine, act)
    ]
    if not lost:
        return ""
    return (
        f"Refused: after this change no policy administrator could {' or '.join(lost)}. Every "
        "administrator would be locked out of policy administration and nobody could undo the "
        "change, so it cannot be applied even with a second administrator's approval. Keep at "
        "least one administrator able to view, edit and approve the policy."
    )
