"""Reading, validating and writing the policy in its reviewable CSV form.

A comment line directly above a policy line is that line's reason. Validation names the line
and the problem, so `policy import` can refuse a bad file clearly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ..domain.agencies import Role
from ..domain.labels import Classification
from .facts import CONDITIONS
from .vocabulary import Act, Kind

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
MODEL_PATH = POLICY_DIR / "model.conf"
POLICY_PATH = POLICY_DIR / "policy.csv"

GROUPS = ("frontline", "corridor", "specialist", "platform", "practitioner")
# The vocabulary of policy lines is the typed vocabulary the code uses (access/vocabulary.py).
ACTIONS = (*(a.value for a in Act), "*")
KINDS = ("*", "record/*", *(k.value for k in Kind))


class PolicyFileError(ValueError):
    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"line {line}: {problem}")


@dataclass(frozen=True)
class Rule:
    ptype: str  # "p" or "g"
    values: tuple[str, ...]
    reason: str = ""

    def key(self) -> tuple[str, ...]:
        return (self.ptype, *self.values)

    def describe(self) -> str:
        return ", ".join(self.key())


def _valid_subject(value: str) -> bool:
    return value == "*" or value in GROUPS or value in Role.__members__


def _valid_kind(value: str) -> bool:
    if value in KINDS:
        return True
    if value.startswith("record/"):
        from ..domain.cases import RecordType

        suffix = value.removeprefix("record/")
        if suffix.endswith("*"):
            return any(t.value.startswith(suffix[:-1]) for t in RecordType)
        return suffix in RecordType.__members__
    return False


def validate_g(rule: Rule) -> str:
    v = rule.values
    if rule.ptype == "g":
        if len(v) != 2:
            return "a group line needs a role and a group"
        if v[0] not in Role.__members__ and v[0] not in GROUPS:
            return f"unknown role or group {v[0]!r}"
        if v[1] not in GROUPS:
            return f"unknown group {v[1]!r} (groups: {', '.join(GROUPS)})"
        return ""
    return f"unknown line type {rule.ptype!r} (use p or g)"


def validate_p(values: tuple[str, ...]) -> str:
    if len(values) != 6:
        return "a policy line needs 6 fields: role, object, action, label, condition, effect"
    sub, obj, act, label, condition, eft = values
    if not _valid_subject(sub):
        return f"unknown role or group {sub!r}"
    if not _valid_kind(obj):
        return f"unknown object kind {obj!r}"
    if act not in ACTIONS:
        return f"unknown action {act!r}"
    if label != "*" and label not in Classification.markings():
        return f"unknown label {label!r} (TOP SECRET is not held on this platform)"
    if condition not in CONDITIONS:
        return f"unknown condition {condition!r} (conditions: {', '.join(CONDITIONS)})"
    if eft not in ("allow", "deny"):
        return f"effect must be allow or deny, not {eft!r}"
    return ""


def check(rule: Rule) -> str:
    """The problem with one rule, or "" when it is valid."""
    if rule.ptype == "p":
        return validate_p(rule.values)
    return validate_g(rule)


def parse(text: str) -> list[Rule]:
    rules: list[Rule] = []
    reason = ""
    seen: set[tuple[str, ...]] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            reason = ""
            continue
        if line.startswith("#"):
            comment = line.lstrip("#").strip()
            reason = comment if comment and not comment.startswith("---") else reason
            continue
        fields = [f.strip() for f in next(csv.reader([line], skipinitialspace=True))]
        rule = Rule(fields[0], tuple(fields[1:]), reason)
        problem = check(rule)
        if problem:
            raise PolicyFileError(number, problem)
        if rule.key() in seen:
            raise PolicyFileError(number, "duplicate of an earlier line")
        seen.add(rule.key())
        rules.append(rule)
        reason = ""
    if not rules:
        raise PolicyFileError(0, "the file holds no policy lines")
    return rules


def read(path: Path = POLICY_PATH) -> list[Rule]:
    return parse(path.read_text())


def render(rules: list[Rule]) -> str:
    out = io.StringIO()
    out.write(
        "# shareplatform access policy. A comment line gives the reason for the line below it.\n"
    )
    out.write(
        "# p, role or group, object kind, action, label, condition, effect\n# g, role, group\n\n"
    )  # the blank line ends the header, so it is never read as the first line's reason
    for rule in rules:
        if rule.reason:
            out.write(f"# {rule.reason}\n")
        out.write(", ".join(rule.key()) + "\n")
    return out.getvalue()
