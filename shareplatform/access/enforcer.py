"""A thread-safe, cached pycasbin enforcer.

pycasbin re-parses its matcher with ast.parse on every call; on CPython 3.11 before 3.11.8 that
can raise SystemError under threads (gh-106905). We parse the matcher once, serialise enforce()
behind a lock, and cache decisions keyed on the policy version and the request's facts, so a page
of hundreds of records costs a handful of real evaluations.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass

import casbin
from casbin.util import SimpleEval

from ..domain.labels import Classification
from .facts import Facts, SubjectFacts, clearance_dominates, cond
from .policy_files import MODEL_PATH, Rule
from .store import RuleListAdapter
from .vocabulary import Kind


class _ParsedMatcherEnforcer(casbin.Enforcer):
    _parsed: dict[str, ast.expr] = {}

    def _get_expression(self, expr, functions=None):
        expr = expr.replace("&&", "and").replace("||", "or")
        tree = self._parsed.get(expr)
        if tree is None:
            import re

            tree = ast.parse(re.sub(r"!(?!=)", "not ", expr).strip()).body[0].value  # type: ignore[attr-defined]
            self._parsed[expr] = tree
        evaluator = SimpleEval("", functions)
        evaluator.ast_parsed_value = tree
        return evaluator


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: tuple[str, ...]  # the deciding line (deny line on denial, when one matched)


class PolicyEngine:
    """One loaded policy version. Immutable once built; replaced wholesale on reload."""

    def __init__(self, rules: list[Rule], version: int) -> None:
        self.version = version
        self.rules = rules
        self._enforcer = _ParsedMatcherEnforcer(str(MODEL_PATH), RuleListAdapter(rules))
        self._enforcer.add_function("cond", cond)
        self._enforcer.add_function("dominates", clearance_dominates)
        self._lock = threading.Lock()
        self._cache: dict[tuple[SubjectFacts, Facts, str], Verdict] = {}
        self.evaluations = 0
        # warm once before any thread uses it
        self.decide(
            SubjectFacts("POM", "OFFICIAL"), Facts(Kind.CASE, Classification.OFFICIAL), "read"
        )

    def decide(self, sub: SubjectFacts, obj: Facts, act: str) -> Verdict:
        key = (sub, obj, act)
        verdict = self._cache.get(key)
        if verdict is not None:
            return verdict
        with self._lock:
            allowed, rule = self._enforcer.enforce_ex(sub, obj, act)
            self.evaluations += 1
        verdict = Verdict(bool(allowed), tuple(rule))
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[key] = verdict
        return verdict

    def raw_enforce(self, sub: SubjectFacts, obj: Facts, act: str) -> bool:
        """An uncached call, for benchmarks and tests."""
        with self._lock:
            return bool(self._enforcer.enforce(sub, obj, act))

    def role_groups(self, role: str) -> list[str]:
        return list(self._enforcer.get_implicit_roles_for_user(role))
