"""The policy in its reviewable CSV form (shareplatform/access/policy_files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shareplatform.access import policy_files
from shareplatform.access.facts import CONDITIONS
from shareplatform.access.policy_files import PolicyFileError, Rule, check, parse, render
from shareplatform.domain.agencies import Role, Tier

GOOD = "p, COM, record/*, read, OFFICIAL, team, allow"


def test_shipped_policy_parses_with_a_reason_on_every_line(shipped_rules: list[Rule]) -> None:
    assert len(shipped_rules) > 50
    assert all(r.reason for r in shipped_rules)
    assert all(check(r) == "" for r in shipped_rules)
    assert len({r.key() for r in shipped_rules}) == len(shipped_rules)


def test_shipped_policy_groups_every_role_by_its_domain_tier(shipped_rules: list[Rule]) -> None:
    groups = {r.values[0]: r.values[1] for r in shipped_rules if r.ptype == "g"}
    for role in Role:
        assert groups[role.value] == role.info.tier.value, role
    tiers = {t.value for t in Tier if t is not Tier.PLATFORM}
    assert all(groups[t] == "practitioner" for t in tiers)
    assert "platform" not in groups  # platform roles are not practitioners


def test_shipped_policy_keeps_the_safety_denials(shipped_rules: list[Rule]) -> None:
    keys = {r.key() for r in shipped_rules}
    assert ("p", "*", "*", "*", "*", "uncleared", "deny") in keys
    assert ("p", "*", "record/*", "read", "*", "orcon_foreign", "deny") in keys
    assert ("p", "frontline", "*", "read", "SECRET", "any", "deny") in keys
    assert ("p", "specialist", "*", "read", "SECRET", "any", "deny") in keys
    assert ("p", "platform", "record/*", "read", "*", "any", "deny") in keys


def test_render_round_trip_of_the_shipped_policy(shipped_rules: list[Rule]) -> None:
    text = render(shipped_rules)
    assert parse(text) == shipped_rules
    assert render(parse(text)) == text


def test_round_trip_keeps_reasons_and_lines_without_one() -> None:
    rules = [
        Rule("g", ("COM", "frontline"), "COMs are frontline"),
        Rule("p", ("frontline", "*", "read", "SECRET", "any", "deny")),
        Rule("p", ("COM", "case", "read", "OFFICIAL-SENSITIVE", "team", "allow"), "own cases"),
    ]
    assert parse(render(rules)) == rules


def test_comment_above_a_line_is_its_reason() -> None:
    text = (
        "# why this line\n" + GOOD + "\n\n# orphan comment\n\np, HONSU, case, read, *, any, allow"
    )
    first, second = parse(text)
    assert first.reason == "why this line"
    assert second.reason == ""  # a blank line separates a comment from the next rule


def test_heading_comments_are_not_reasons() -> None:
    (rule,) = parse("# --- Section heading ---\n" + GOOD)
    assert rule.reason == ""


def test_fields_are_trimmed() -> None:
    (rule,) = parse("  p ,COM ,  record/* ,read,OFFICIAL ,team,  allow  ")
    assert rule == Rule("p", ("COM", "record/*", "read", "OFFICIAL", "team", "allow"))
    assert rule.describe() == "p, COM, record/*, read, OFFICIAL, team, allow"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("p, COM, record/*, read, OFFICIAL, team", "needs 6 fields"),
        ("p, COM, record/*, read, OFFICIAL, team, allow, extra", "needs 6 fields"),
        ("p, SUPERUSER, record/*, read, OFFICIAL, team, allow", "unknown role or group"),
        ("p, COM, records, read, OFFICIAL, team, allow", "unknown object kind"),
        ("p, COM, record/EMAIL, read, OFFICIAL, team, allow", "unknown object kind"),
        ("p, COM, record/NOPE_*, read, OFFICIAL, team, allow", "unknown object kind"),
        ("p, COM, record/*, delete, OFFICIAL, team, allow", "unknown action"),
        ("p, COM, record/*, read, TOP-SECRET, team, allow", "TOP SECRET is not held"),
        ("p, COM, record/*, read, official, team, allow", "unknown label"),
        ("p, COM, record/*, read, OFFICIAL, friends, allow", "unknown condition"),
        ("p, COM, record/*, read, OFFICIAL, team, permit", "effect must be allow or deny"),
        ("g, COM", "needs a role and a group"),
        ("g, COM, frontline, extra", "needs a role and a group"),
        ("g, SUPERUSER, frontline", "unknown role or group"),
        ("g, COM, managers", "unknown group"),
        ("x, COM, frontline", "unknown line type"),
    ],
)
def test_malformed_line_names_its_line_and_problem(line: str, problem: str) -> None:
    text = f"# reason\n{GOOD}\n\n{line}\n"
    with pytest.raises(PolicyFileError) as err:
        parse(text)
    assert err.value.line == 4
    assert problem in err.value.problem
    assert str(err.value).startswith("line 4: ")


def test_duplicate_line_is_refused_at_the_duplicate() -> None:
    with pytest.raises(PolicyFileError) as err:
        parse(f"{GOOD}\n# same again\n{GOOD.replace(', ', ',')}\n")
    assert (err.value.line, err.value.problem) == (3, "duplicate of an earlier line")


@pytest.mark.parametrize("text", ["", "\n\n", "# only comments\n# here\n"])
def test_empty_policy_is_refused(text: str) -> None:
    with pytest.raises(PolicyFileError) as err:
        parse(text)
    assert err.value.line == 0
    assert "no policy lines" in err.value.problem


@pytest.mark.parametrize(
    "kind",
    ["*", "record/*", "record/ASSESSMENT_*", "record/ASSESSMENT_ERG", "record/MINUTES", "policy"],
)
def test_valid_object_kinds(kind: str) -> None:
    assert check(Rule("p", ("corridor", kind, "read", "*", "any", "allow"))) == ""


def test_every_condition_is_accepted() -> None:
    for name in CONDITIONS:
        assert check(Rule("p", ("*", "case", "read", "*", name, "deny"))) == ""


def test_group_lines_may_nest_groups() -> None:
    assert check(Rule("g", ("frontline", "practitioner"))) == ""
    assert "unknown group" in check(Rule("g", ("COM", "POM")))


def test_read_uses_the_given_path(tmp_path: Path) -> None:
    path = tmp_path / "policy.csv"
    path.write_text("# reason\n" + GOOD + "\n")
    assert policy_files.read(path) == [Rule("p", tuple(GOOD.split(", ")[1:]), "reason")]


def test_round_trip_when_the_first_line_has_no_reason() -> None:
    """The rendered header is never read back as the first line's reason."""
    rules = [
        Rule("p", ("frontline", "*", "read", "SECRET", "any", "deny")),
        Rule("g", ("COM", "frontline"), "COMs are frontline"),
    ]
    assert parse(render(rules)) == rules
