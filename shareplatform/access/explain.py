"""Human explanations of decisions, for the interface, the logs and administrators."""

from __future__ import annotations

import uuid

from ..domain.labels import Classification
from .enforcer import Verdict
from .facts import Facts, Subject, clearance_dominates
from .vocabulary import Act


def explain(
    subject: Subject,
    facts: Facts,
    act: Act,
    verdict: Verdict,
    case_id: object = None,
    because: str = "",
) -> str:
    if verdict.allowed:
        how = _how(facts)
        return (
            f"allowed: {subject.role.title} {how}"
            if how
            else f"allowed by policy for {subject.role.title}"
        )
    if subject.clearance is None:
        if subject.vetting_expires is not None:
            return (
                f"denied: your {subject.vetting.value} vetting expired on "
                f"{subject.vetting_expires:%d %B %Y}"
            )
        return "denied: you hold no current vetting"
    if not clearance_dominates(subject.clearance.marking, facts.label):
        return f"denied: your {subject.vetting.value} vetting does not cover this material"
    rule = verdict.rule
    if rule and rule[-1] == "deny":
        cond, label = rule[4], rule[3]
        if cond == "orcon_foreign":
            return "denied: originator-controlled (ORCON) material, not released to your agency"
        if label == Classification.SECRET.marking and rule[0] in ("frontline", "specialist"):
            return "denied: SECRET material is shared only through the sterile corridor"
        if rule[0] == "platform":
            return "denied: administrator and auditor roles do not read case content"
        if because:
            return f"denied: {because[:1].lower()}{because[1:]}"
        return f"denied: policy line '{', '.join(rule)}'"
    case_id = case_id if isinstance(case_id, uuid.UUID) else facts.case_id
    needs = facts.team or facts.panel or facts.oversight or facts.break_glass
    if not needs and facts.kind not in ("policy", "user", "audit"):
        case_end = subject.ended.get(case_id) if case_id is not None else None
        if case_end is not None:
            return f"denied: not on the case team since {case_end:%d %B %Y}"
        return "denied: you are not on this case's team or panel"
    return f"denied: no policy line lets a {subject.role.title} {act} this"


def _how(facts: Facts) -> str:
    if facts.team:
        return "on the case team"
    if facts.panel:
        return "on the case's MAPPA panel"
    if facts.oversight:
        return "with oversight of the case's unit"
    if facts.break_glass:
        return "under emergency (break-glass) access"
    return ""
