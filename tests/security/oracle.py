"""An independent oracle for the access rules of docs/domain.md ("Access rules", "Vetting", roles).

Plain Python on purpose: it imports nothing from shareplatform, so a mistake in the policy files
or the access kernel cannot leak into the expected answers. Role tiers, agencies and oversight are
transcribed from docs/domain.md's table and the default policy's documented intent:

- platform roles (policy/user administrators, auditors) read and write no case content;
- clearance must dominate the label: BPSS and CTC reach OFFICIAL-SENSITIVE, SC and DV reach
  SECRET, expired vetting reaches nothing;
- need-to-know: current case team, current MAPPA panel, or oversight of the case's unit (HoNSU and
  SOL over their NSD unit; NM supervisor, NM lead and LRO over their CT unit); an ended membership
  or mere presence in the same unit gives nothing;
- the sterile corridor: SECRET only for corridor roles (operational and senior managers), never
  frontline or specialists whatever their vetting;
- ORCON: only the originating agency reads it until released;
- keyworkers read no assessments and no enquiries, and of the contact log only their own contacts
  ("keyworkers see plan objectives, risk flags and their contact log only");
- writing needs clearance for the label and team membership, or a corridor role with need-to-know;
- a withheld record shows a "further information is held" marker only to current team members
  cleared for its label, and never for SECRET; otherwise it leaves no trace.
"""

from __future__ import annotations

from dataclasses import dataclass

LABELS = ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET")
RANK = {label: n for n, label in enumerate(LABELS, start=1)}

FRONTLINE = {
    "POM": "PRISON",
    "KEYWORKER": "PRISON",
    "COM": "NSD",
    "PROBATION_PRACTITIONER": "NSD",
    "SPECIALIST_PRACTITIONER": "NSD",
    "NOMINAL_MANAGER": "CTNM",
    "CT_SUPPORT_STAFF": "CTNM",
}
CORRIDOR = {
    "GOVERNOR": "PRISON",
    "HEAD_OF_SECURITY": "PRISON",
    "SOL": "NSD",
    "HONSU": "NSD",
    "NM_SUPERVISOR": "CTNM",
    "NM_LEAD": "CTNM",
    "LRO": "CTNM",
    "PCT_LEAD": "JEXU",
    "RCTL": "JEXU",
}
SPECIALIST = {
    "PRISON_PREVENT_LEAD": "PRISON",
    "PSYCHOLOGIST": "NSD",
    "POLYGRAPH_EXAMINER": "NSD",
    "MAPPA_ADMIN": "NSD",
    "CTPIO": "CTNM",
}
PLATFORM = {"POLICY_ADMIN": "PLATFORM", "USER_ADMIN": "PLATFORM", "AUDITOR": "PLATFORM"}
AGENCY = {**FRONTLINE, **CORRIDOR, **SPECIALIST, **PLATFORM}
ROLES = tuple(AGENCY)
OVERSIGHT_NSD = {"HONSU", "SOL"}
OVERSIGHT_CT = {"NM_SUPERVISOR", "NM_LEAD", "LRO"}

# vetting level -> highest label it clears (None: nothing). "SC-EXPIRED" is SC past its expiry.
CLEARS = {
    "BPSS": "OFFICIAL-SENSITIVE",
    "CTC": "OFFICIAL-SENSITIVE",
    "SC": "SECRET",
    "DV": "SECRET",
    "SC-EXPIRED": None,
}
VETTINGS = tuple(CLEARS)

# how the user stands to the case
MEMBERSHIPS = (
    "team",
    "panel",
    "ended",
    "none",
    "unit",
)  # unit: same unit as the case, no membership
CAVEATS = ("none", "orcon-own", "orcon-other", "personal")


@dataclass(frozen=True)
class Who:
    role: str
    vetting: str
    membership: str  # one of MEMBERSHIPS
    same_nsd_unit: bool = False
    same_ct_unit: bool = False


@dataclass(frozen=True)
class What:
    label: str
    caveat: str  # one of CAVEATS
    record_type: str
    by_reader: bool = False  # written by the user asking


def cleared(who: Who, label: str) -> bool:
    top = CLEARS[who.vetting]
    return top is not None and RANK[top] >= RANK[label]


def oversight(who: Who) -> bool:
    return (who.role in OVERSIGHT_NSD and who.same_nsd_unit) or (
        who.role in OVERSIGHT_CT and who.same_ct_unit
    )


def need_to_know(who: Who) -> bool:
    return who.membership in ("team", "panel") or oversight(who)


def may_read(who: Who, what: What) -> bool:
    if who.role in PLATFORM:
        return False
    if not cleared(who, what.label):
        return False
    if not need_to_know(who):
        return False
    if what.label == "SECRET" and who.role not in CORRIDOR:
        return False
    if what.caveat == "orcon-other":
        return False
    if who.role == "KEYWORKER" and what.record_type.startswith("CONTACT_"):
        return what.by_reader
    return not (
        who.role == "KEYWORKER" and what.record_type.startswith(("ASSESSMENT_", "ENQUIRY_"))
    )


def sees_marker(who: Who, what: What) -> bool:
    """Withheld, but shown as 'further information is held' (never for SECRET)."""
    if may_read(who, what) or who.role in PLATFORM:
        return False
    return who.membership == "team" and what.label != "SECRET" and cleared(who, what.label)


def may_write(who: Who, what: What) -> bool:
    if who.role in PLATFORM or not cleared(who, what.label):
        return False
    if what.label == "SECRET" and who.role not in CORRIDOR:
        return False
    if what.caveat == "orcon-other":
        return False  # writers originate what they write: another agency's ORCON is not theirs
    if who.membership == "team":
        return True
    return who.role in CORRIDOR and need_to_know(who)
