"""Guardrails on a policy change (shareplatform/policy_admin/guardrails.py): the pure checks,
run on small hand-written policies so they stay fast, and the class helpers on the shipped one."""

from __future__ import annotations

import pytest

from shareplatform.access.enforcer import PolicyEngine
from shareplatform.access.facts import SubjectFacts
from shareplatform.access.policy_files import Rule
from shareplatform.domain.agencies import Role
from shareplatform.policy_admin import guardrails
from shareplatform.policy_admin.guardrails import (
    ADMIN_READS_CONTENT,
    CLEARANCE_CHECK_REMOVED,
    CONTENT_KINDS,
    SECRET_OUTSIDE_CORRIDOR,
    Flag,
    flags,
    kind_classes,
    lockout,
    role_classes,
)


def g(role: str, group: str) -> Rule:
    return Rule("g", (role, group))


def p(*values: str) -> Rule:
    return Rule("p", values)


UNCLEARED = p("*", "*", "*", "*", "uncleared", "deny")
FRONTLINE_SECRET = p("frontline", "*", "read", "SECRET", "any", "deny")
POLICY_EDIT = p("POLICY_ADMIN", "policy", "edit", "*", "any", "allow")
LIVE = [
    g("COM", "frontline"),
    g("POM", "frontline"),
    g("HONSU", "corridor"),
    g("LRO", "corridor"),
    g("AUDITOR", "platform"),
    g("POLICY_ADMIN", "platform"),
    UNCLEARED,
    FRONTLINE_SECRET,
    p("frontline", "record/*", "read", "OFFICIAL-SENSITIVE", "team", "allow"),
    p("corridor", "record/*", "read", "*", "need_to_know", "allow"),
    POLICY_EDIT,
    p("AUDITOR", "audit", "read", "*", "any", "allow"),
]


@pytest.fixture(scope="module")
def live() -> PolicyEngine:
    return PolicyEngine(LIVE, version=1)


def _flags(live: PolicyEngine, draft: list[Rule]) -> dict[str, Flag]:
    out = flags(LIVE, draft, live, PolicyEngine(draft, version=2))
    assert len({f.code for f in out}) == len(out)
    return {f.code: f for f in out}


def _without(*rules: Rule) -> list[Rule]:
    return [r for r in LIVE if r not in rules]


def test_an_unchanged_policy_raises_no_flag(live: PolicyEngine) -> None:
    assert flags(LIVE, LIVE, live, live) == []
    assert _flags(live, list(LIVE)) == {}


def test_tightening_raises_no_flag(live: PolicyEngine) -> None:
    draft = [*_without(LIVE[-1]), p("COM", "record/*", "read", "*", "any", "deny")]
    assert _flags(live, draft) == {}


def test_frontline_reading_secret_is_flagged(live: PolicyEngine) -> None:
    draft = [
        *_without(FRONTLINE_SECRET),
        p("frontline", "record/*", "read", "SECRET", "team", "allow"),
    ]
    found = _flags(live, draft)
    assert set(found) == {SECRET_OUTSIDE_CORRIDOR}
    examples = found[SECRET_OUTSIDE_CORRIDOR].examples
    assert any(
        e.startswith("COM may read record/") and "at SECRET (case team)" in e for e in examples
    )
    assert not any(e.startswith(("HONSU", "LRO")) for e in examples)


def test_widening_under_the_frontline_deny_is_not_flagged(live: PolicyEngine) -> None:
    """Deny wins: an allow at every label for frontline still never reaches SECRET."""
    draft = [*LIVE, p("frontline", "record/*", "read", "*", "team", "allow")]
    assert SECRET_OUTSIDE_CORRIDOR not in _flags(live, draft)


def test_moving_a_frontline_role_into_the_corridor_is_flagged(live: PolicyEngine) -> None:
    draft = [*_without(g("COM", "frontline")), g("COM", "corridor")]
    flag = _flags(live, draft)[SECRET_OUTSIDE_CORRIDOR]
    assert all(e.startswith("COM ") or e.startswith("...") for e in flag.examples)
    assert any("(MAPPA panel)" in e for e in flag.examples)


def test_a_role_without_groups_gaining_secret_is_flagged(live: PolicyEngine) -> None:
    draft = [*LIVE, p("MAPPA_ADMIN", "meeting/closed", "read", "SECRET", "panel", "allow")]
    flag = _flags(live, draft)[SECRET_OUTSIDE_CORRIDOR]
    assert flag.examples == ("MAPPA_ADMIN may read meeting/closed at SECRET (MAPPA panel)",)


def test_giving_the_corridor_more_is_not_a_corridor_flag(live: PolicyEngine) -> None:
    draft = [*LIVE, p("corridor", "decision", "read", "SECRET", "panel", "allow")]
    assert _flags(live, draft) == {}


def test_removing_the_clearance_check_is_flagged(live: PolicyEngine) -> None:
    found = _flags(live, _without(UNCLEARED))
    assert CLEARANCE_CHECK_REMOVED in found
    assert found[CLEARANCE_CHECK_REMOVED].examples == ("p, *, *, *, *, uncleared, deny",)


def test_narrowing_the_clearance_check_is_flagged(live: PolicyEngine) -> None:
    narrowed = p("*", "record/*", "*", "*", "uncleared", "deny")
    assert CLEARANCE_CHECK_REMOVED in _flags(live, [*_without(UNCLEARED), narrowed])


def test_adding_a_second_clearance_line_is_not_flagged(live: PolicyEngine) -> None:
    extra = p("*", "record/*", "read", "*", "uncleared", "deny")
    assert CLEARANCE_CHECK_REMOVED not in _flags(live, [*LIVE, extra])


def test_an_administrator_reading_content_is_flagged(live: PolicyEngine) -> None:
    draft = [*LIVE, p("AUDITOR", "record/*", "read", "OFFICIAL", "any", "allow")]
    flag = _flags(live, draft)[ADMIN_READS_CONTENT]
    assert flag.examples
    assert all(e.startswith("AUDITOR may read record/") for e in flag.examples[:-1])
    assert all(" at OFFICIAL (" in e for e in flag.examples if not e.startswith("..."))


def test_platform_group_reading_cases_is_flagged_for_every_platform_role(
    live: PolicyEngine,
) -> None:
    draft = [*LIVE, p("platform", "case", "read", "*", "any", "allow")]
    flag = _flags(live, draft)[ADMIN_READS_CONTENT]
    # AUDITOR and POLICY_ADMIN (USER_ADMIN is in no group here) x 3 labels x 8 relations,
    # twelve shown
    assert len(flag.examples) == 13
    assert flag.examples[-1] == "... and 36 more"
    assert flag.examples[0] == "AUDITOR may read case at OFFICIAL (MAPPA panel)"


def test_the_admin_flag_names_the_role_that_gains(live: PolicyEngine) -> None:
    draft = [*LIVE, p("POLICY_ADMIN", "nominal", "read", "OFFICIAL", "team", "allow")]
    flag = _flags(live, draft)[ADMIN_READS_CONTENT]
    assert flag.examples == ("POLICY_ADMIN may read nominal at OFFICIAL (case team)",)


def test_admin_flag_ignores_administration_kinds(live: PolicyEngine) -> None:
    draft = [*LIVE, p("AUDITOR", "audit", "export", "*", "any", "allow")]
    draft += [p("POLICY_ADMIN", "policy", "read", "*", "any", "allow")]
    assert _flags(live, draft) == {}


def test_long_example_lists_are_cut_short(live: PolicyEngine) -> None:
    draft = [*_without(g("POM", "frontline")), g("POM", "corridor")]
    draft += [p("corridor", "*", "read", "*", "any", "allow")]
    examples = _flags(live, draft)[SECRET_OUTSIDE_CORRIDOR].examples
    assert len(examples) == 13
    assert examples[-1].startswith("... and ") and examples[-1].endswith(" more")


# -- lockout --------------------------------------------------------------------------------------
def test_no_lockout_while_an_administrator_can_edit(live: PolicyEngine) -> None:
    assert lockout(live, []) == ""
    assert lockout(live, [SubjectFacts("POLICY_ADMIN", "OFFICIAL")]) == ""


def test_lockout_when_no_line_lets_an_administrator_edit() -> None:
    draft = PolicyEngine([r for r in LIVE if r != POLICY_EDIT], version=2)
    message = lockout(draft, [SubjectFacts("POLICY_ADMIN", "SECRET")])
    assert message.startswith("Refused") and "locked out" in message
    assert lockout(draft, []) == message


def test_lockout_when_every_administrator_is_uncleared(live: PolicyEngine) -> None:
    assert lockout(live, [SubjectFacts("POLICY_ADMIN", "")]) != ""
    assert (
        lockout(live, [SubjectFacts("POLICY_ADMIN", ""), SubjectFacts("POLICY_ADMIN", "OFFICIAL")])
        == ""
    )


def test_lockout_ignores_other_roles_that_can_edit() -> None:
    draft = PolicyEngine(
        [
            *[r for r in LIVE if r != POLICY_EDIT],
            p("AUDITOR", "policy", "edit", "*", "any", "allow"),
        ],
        version=2,
    )
    assert lockout(draft, []) != ""
    assert lockout(draft, [SubjectFacts("AUDITOR", "SECRET")]) == ""  # whoever holds the admin seat


# -- equivalence classes ------------------------------------------------------------------------
def test_kind_classes_partition_the_content_kinds(shipped_rules: list[Rule]) -> None:
    classes = kind_classes(shipped_rules)
    members = [k for same in classes.values() for k in same]
    assert sorted(members) == sorted(CONTENT_KINDS)
    assert all(rep == same[0] for rep, same in classes.items())


def test_kind_classes_follow_the_patterns_in_use(shipped_rules: list[Rule]) -> None:
    classes = kind_classes(shipped_rules)
    owner = {k: rep for rep, same in classes.items() for k in same}
    # the keyworker denials tell assessments and enquiries from contacts
    assert owner["record/CONTACT_PHONE"] == owner["record/CONTACT_OFFICE"]
    assert owner["record/ASSESSMENT_OASYS"] != owner["record/CONTACT_OFFICE"]
    assert owner["record/ENQUIRY_CHILD_SAFEGUARDING"] == owner["record/ENQUIRY_DOMESTIC_ABUSE"]
    # the POM handling rules single out ERG 22+ and PGF
    assert owner["record/ASSESSMENT_ERG"] != owner["record/ASSESSMENT_OASYS"]
    assert owner["record/ASSESSMENT_PGF"] != owner["record/ASSESSMENT_ERG"]


def test_kind_classes_with_only_a_wildcard_collapse_records() -> None:
    classes = kind_classes([p("*", "record/*", "read", "*", "any", "allow")])
    record_kinds = [k for k in CONTENT_KINDS if k.startswith("record/")]
    assert any(set(record_kinds) <= set(same) for same in classes.values())


def test_content_kinds_exclude_administration() -> None:
    assert {"policy", "user", "audit", "*", "record/*", "dashboard"}.isdisjoint(CONTENT_KINDS)
    assert {"case", "nominal", "decision", "meeting/closed", "record/MINUTES"} <= set(CONTENT_KINDS)


def test_role_classes_partition_and_group_like_roles(shipped_rules: list[Rule]) -> None:
    classes = role_classes(list(Role), shipped_rules)
    members = [r for same in classes.values() for r in same]
    assert sorted(members) == sorted(Role)
    owner = {r: rep for rep, same in classes.items() for r in same}
    assert owner[Role.COM] == owner[Role.NOMINAL_MANAGER]  # both plain frontline
    assert owner[Role.POM] != owner[Role.COM]  # POM has its own handling rules
    assert owner[Role.KEYWORKER] != owner[Role.COM]  # and keyworkers their own denials
    assert owner[Role.HONSU] == owner[Role.LRO]
    assert owner[Role.SOL] != owner[Role.HONSU]  # SOLs countersign plans
    assert owner[Role.AUDITOR] != owner[Role.POLICY_ADMIN]


def test_role_classes_split_when_the_draft_treats_roles_differently(
    shipped_rules: list[Rule],
) -> None:
    draft = [*shipped_rules, p("LRO", "decision", "export", "*", "any", "deny")]
    live_only = role_classes([Role.HONSU, Role.LRO], shipped_rules)
    both = role_classes([Role.HONSU, Role.LRO], shipped_rules, draft)
    assert len(live_only) == 1 and len(both) == 2


def test_relations_cover_every_condition() -> None:
    from shareplatform.access.facts import CONDITIONS

    flags_named = {k for _, kw in guardrails.RELATIONS for k in kw}
    assert flags_named == {
        "team",
        "panel",
        "oversight",
        "break_glass",
        "author",
        "owner",
        "orcon_foreign",
    }
    # "others" (not the author) holds in every fact set without `author`, "no relation" first
    assert set(CONDITIONS) - {"any", "need_to_know", "uncleared", "others"} <= flags_named
