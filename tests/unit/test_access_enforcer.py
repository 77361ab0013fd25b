"""Decisions of the PolicyEngine (shareplatform/access/enforcer.py) on the shipped policy and on
small hand-written policies."""

from __future__ import annotations

import pytest

from shareplatform.access.enforcer import PolicyEngine, Verdict
from shareplatform.access.facts import Facts, SubjectFacts
from shareplatform.access.policy_files import Rule
from shareplatform.access.vocabulary import Kind, record_kind
from shareplatform.domain.cases import RecordType
from shareplatform.domain.labels import Classification

S, OS, OFF = "SECRET", "OFFICIAL-SENSITIVE", "OFFICIAL"
TEAM, PANEL, OVERSIGHT = {"team": True}, {"panel": True}, {"oversight": True}
BREAK_GLASS, OWNER = {"break_glass": True}, {"owner": True}
ORCON = {"orcon_foreign": True}
NOTE = "record/CONTACT_OFFICE"

# (role, clearance, kind, label, relation, action, allowed, why)
CASES = [
    # sterile corridor: frontline never reads or writes SECRET, whatever their vetting
    ("COM", S, NOTE, S, TEAM, "read", False, "frontline-secret"),
    ("COM", S, "record/MINUTES", S, PANEL, "read", False, "frontline-on-panel-secret"),
    ("POM", S, NOTE, S, TEAM, "read", False, "pom-secret"),
    ("NOMINAL_MANAGER", S, NOTE, S, TEAM, "write", False, "frontline-write-secret"),
    ("COM", S, NOTE, OS, TEAM, "read", True, "frontline-own-case-os"),
    ("COM", OS, NOTE, OFF, TEAM, "read", True, "frontline-own-case-official"),
    ("COM", OS, NOTE, OS, TEAM, "write", True, "frontline-writes-default-label"),
    ("COM", OS, NOTE, OS, PANEL, "write", False, "frontline-write-needs-team"),
    # need-to-know
    ("COM", S, NOTE, OS, {}, "read", False, "no-relation"),
    ("HONSU", S, NOTE, OFF, {}, "read", False, "corridor-no-relation"),
    ("HONSU", S, "record/MINUTES", S, PANEL, "read", True, "honsu-panel-secret-minutes"),
    ("LRO", S, NOTE, S, OVERSIGHT, "read", True, "lro-oversight-secret"),
    ("SOL", S, NOTE, S, TEAM, "read", True, "sol-team-secret"),
    ("HONSU", S, NOTE, S, PANEL, "write", True, "corridor-writes-secret"),
    # clearance: the record's label must be dominated
    ("HONSU", OS, "record/MINUTES", S, PANEL, "read", False, "corridor-without-sc"),
    ("HONSU", "", NOTE, OFF, PANEL, "read", False, "expired-vetting"),
    ("COM", OFF, NOTE, OS, TEAM, "read", False, "official-clearance-os-record"),
    ("COM", OFF, NOTE, OS, TEAM, "notice", False, "no-notice-above-clearance"),
    ("COM", OS, NOTE, OS, TEAM, "notice", True, "notice-of-withheld"),
    # ORCON from another agency, even for the corridor
    ("HONSU", S, "record/MINUTES", S, {**PANEL, **ORCON}, "read", False, "orcon-foreign-secret"),
    ("COM", OS, NOTE, OS, {**TEAM, **ORCON}, "read", False, "orcon-foreign-os"),
    # specialists, including MAPPA administrators, never see SECRET
    ("MAPPA_ADMIN", S, "record/MINUTES", S, PANEL, "read", False, "mappa-admin-secret"),
    ("MAPPA_ADMIN", S, "meeting/closed", S, PANEL, "read", False, "mappa-admin-closed"),
    ("MAPPA_ADMIN", OS, "meeting/open", OS, PANEL, "write", True, "mappa-admin-minutes"),
    ("PSYCHOLOGIST", S, "record/ASSESSMENT_ERG", S, TEAM, "read", False, "psychologist-secret"),
    # deny wins: keyworkers match the practitioner allow but their deny line decides
    ("KEYWORKER", OS, "record/ASSESSMENT_ERG", OS, TEAM, "read", False, "keyworker-assessment"),
    ("KEYWORKER", OS, "record/ENQUIRY_DOMESTIC_ABUSE", OS, TEAM, "read", False, "keyworker-da"),
    ("KEYWORKER", OS, NOTE, OS, {**TEAM, "author": True}, "read", True, "keyworker-contact-log"),
    ("KEYWORKER", OS, NOTE, OS, TEAM, "read", False, "keyworker-others-contacts"),
    ("KEYWORKER", OS, "checklist", OS, TEAM, "read", False, "keyworker-checklist"),
    ("POM", OS, "record/ASSESSMENT_ERG", OS, TEAM, "read", True, "pom-erg-handling-rule"),
    # MAPPA decision log
    ("HONSU", S, "meeting/closed", S, PANEL, "read", True, "closed-part-panel"),
    ("HONSU", S, "meeting/closed", S, OVERSIGHT, "read", False, "closed-part-needs-panel"),
    ("LRO", S, "decision", S, PANEL, "write", True, "lro-records-decision"),
    # an ordinary decision (no SECRET disclosure under it) is read by the team; a SECRET one never
    ("COM", S, "decision", OS, TEAM, "read", True, "frontline-reads-ordinary-decision"),
    ("COM", S, "decision", S, TEAM, "read", False, "frontline-never-secret-decision"),
    ("COM", OS, "breakout", OS, OWNER, "read", True, "owner-reads-breakout"),
    ("HONSU", S, "breakout", S, PANEL, "write", False, "no-secret-breakout"),
    # break-glass: OFFICIAL-SENSITIVE at most
    ("COM", OS, "case", OS, BREAK_GLASS, "read", True, "break-glass-case"),
    ("COM", OS, NOTE, OS, BREAK_GLASS, "read", True, "break-glass-os-record"),
    ("HONSU", S, NOTE, S, BREAK_GLASS, "read", False, "break-glass-never-secret"),
    ("COM", OS, NOTE, OS, BREAK_GLASS, "write", False, "break-glass-is-read-only"),
    # separation of duties
    ("POLICY_ADMIN", S, "policy", OFF, {}, "edit", True, "policy-admin-edits"),
    ("POLICY_ADMIN", S, NOTE, OFF, TEAM, "read", False, "policy-admin-reads-no-content"),
    ("AUDITOR", S, "audit", S, {}, "read", True, "auditor-reads-audit"),
    ("AUDITOR", S, "case", OFF, TEAM, "read", False, "auditor-no-case"),
    ("USER_ADMIN", S, "user", OFF, {}, "manage", True, "user-admin-manages"),
    ("USER_ADMIN", S, "nominal", OFF, TEAM, "read", False, "user-admin-no-nominal"),
    ("COM", OS, "policy", OFF, {}, "edit", False, "practitioner-no-policy"),
    # lifecycle and plans
    ("SOL", S, "plan", OS, OVERSIGHT, "approve", True, "sol-countersigns"),
    ("HONSU", S, "plan", OS, OVERSIGHT, "approve", False, "only-sol-countersigns"),
    ("PCT_LEAD", S, "statistics", OFF, {}, "read", True, "pct-lead-statistics"),
    ("COM", OS, "statistics", OFF, {}, "read", False, "no-statistics-for-com"),
    ("SUPERUSER", S, NOTE, OFF, TEAM, "read", False, "unknown-role"),
]


@pytest.mark.parametrize(
    ("role", "clearance", "kind", "label", "rel", "act", "allowed"),
    [c[:7] for c in CASES],
    ids=[c[7] for c in CASES],
)
def test_shipped_policy_decisions(
    shipped_engine: PolicyEngine,
    role: str,
    clearance: str,
    kind: str,
    label: str,
    rel: dict[str, bool],
    act: str,
    allowed: bool,
) -> None:
    sub, obj = SubjectFacts(role, clearance), Facts(kind, Classification.parse(label), **rel)
    verdict = shipped_engine.decide(sub, obj, act)
    assert verdict.allowed is allowed
    assert shipped_engine.raw_enforce(sub, obj, act) is allowed  # the uncached path agrees
    if allowed:
        assert verdict.rule and verdict.rule[-1] == "allow"


def test_denial_names_the_deciding_deny_line(shipped_engine: PolicyEngine) -> None:
    keyworker = SubjectFacts("KEYWORKER", OS)
    verdict = shipped_engine.decide(
        keyworker,
        Facts(record_kind(RecordType.ASSESSMENT_ERG), Classification.parse(OS), team=True),
        "read",
    )
    assert verdict == Verdict(
        False, ("KEYWORKER", "record/ASSESSMENT_*", "read", "*", "any", "deny")
    )
    com = shipped_engine.decide(
        SubjectFacts("COM", S), Facts(NOTE, Classification.parse(S), team=True), "read"
    )
    assert com.rule == ("frontline", "*", "read", "SECRET", "any", "deny")


def test_denial_without_any_matching_line_names_none(shipped_engine: PolicyEngine) -> None:
    verdict = shipped_engine.decide(
        SubjectFacts("HONSU", S), Facts(NOTE, Classification.parse(S)), "read"
    )
    assert verdict == Verdict(False, ())


def test_role_groups_follow_the_group_lines(shipped_engine: PolicyEngine) -> None:
    assert set(shipped_engine.role_groups("COM")) == {"frontline", "practitioner"}
    assert set(shipped_engine.role_groups("HONSU")) == {"corridor", "practitioner"}
    assert set(shipped_engine.role_groups("MAPPA_ADMIN")) == {"specialist", "practitioner"}
    assert set(shipped_engine.role_groups("AUDITOR")) == {"platform"}


def test_decisions_are_cached() -> None:
    engine = PolicyEngine([Rule("p", ("COM", "case", "read", "*", "team", "allow"))], version=7)
    sub, obj = SubjectFacts("COM", OS), Facts(Kind.CASE, Classification.parse(OFF), team=True)
    before = engine.evaluations
    first = engine.decide(sub, obj, "read")
    assert engine.decide(sub, obj, "read") is first
    assert engine.evaluations == before + 1
    engine.decide(sub, Facts(Kind.CASE, Classification.parse(OFF)), "read")
    assert engine.evaluations == before + 2
    assert engine.version == 7


# -- small policies: deny wins, unknown conditions fail closed -----------------------------------
ALLOW_TEAM = Rule("p", ("COM", "case", "read", "*", "team", "allow"))


def _engine(*rules: Rule) -> PolicyEngine:
    return PolicyEngine(list(rules), version=1)


def test_deny_wins_over_allow() -> None:
    sub, obj = SubjectFacts("COM", OS), Facts(Kind.CASE, Classification.parse(OFF), team=True)
    assert _engine(ALLOW_TEAM).decide(sub, obj, "read").allowed
    deny = Rule("p", ("COM", "case", "read", OFF, "any", "deny"))
    verdict = _engine(ALLOW_TEAM, deny).decide(sub, obj, "read")
    assert verdict == Verdict(False, deny.values)
    assert _engine(deny, ALLOW_TEAM).decide(sub, obj, "read").allowed is False  # order is moot
    assert (
        _engine(ALLOW_TEAM, deny)
        .decide(sub, Facts(Kind.CASE, Classification.parse(OS), team=True), "read")
        .allowed
    )


def test_deny_through_a_group_wins() -> None:
    rules = (
        Rule("g", ("COM", "frontline")),
        ALLOW_TEAM,
        Rule("p", ("frontline", "*", "read", "*", "team", "deny")),
    )
    assert (
        not _engine(*rules)
        .decide(
            SubjectFacts("COM", OS), Facts(Kind.CASE, Classification.parse(OFF), team=True), "read"
        )
        .allowed
    )


def test_unknown_condition_fails_closed() -> None:
    sub, obj = SubjectFacts("COM", OS), Facts(Kind.CASE, Classification.parse(OFF), team=True)
    engine = _engine(Rule("p", ("COM", "case", "read", "*", "no_such_condition", "allow")))
    assert engine.decide(sub, obj, "read").allowed is False
    everything = Facts(
        Kind.CASE,
        Classification.parse(OFF),
        team=True,
        panel=True,
        oversight=True,
        owner=True,
        author=True,
    )
    assert engine.decide(sub, everything, "read").allowed is False


def test_wildcards_in_kind_action_and_label() -> None:
    engine = _engine(Rule("p", ("COM", "record/ASSESSMENT_*", "*", "*", "any", "allow")))
    sub = SubjectFacts("COM", OS)
    assert engine.decide(
        sub, Facts(record_kind(RecordType.ASSESSMENT_ERG), Classification.parse(OS)), "write"
    ).allowed
    assert engine.decide(
        sub, Facts(record_kind(RecordType.ASSESSMENT_PGF), Classification.parse(OFF)), "read"
    ).allowed
    assert not engine.decide(
        sub, Facts(record_kind(RecordType.CONTACT_OFFICE), Classification.parse(OFF)), "read"
    ).allowed
    assert not engine.decide(
        SubjectFacts("POM", OS),
        Facts(record_kind(RecordType.ASSESSMENT_ERG), Classification.parse(OFF)),
        "read",
    ).allowed


def test_nothing_is_allowed_by_default() -> None:
    engine = _engine(Rule("p", ("AUDITOR", "audit", "read", "*", "any", "allow")))
    assert not engine.decide(
        SubjectFacts("HONSU", S), Facts(Kind.CASE, Classification.parse(OFF), team=True), "read"
    ).allowed
    assert engine.decide(
        SubjectFacts("AUDITOR", OFF), Facts(Kind.AUDIT, Classification.parse(OFF)), "read"
    ).allowed
