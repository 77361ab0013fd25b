"""Case lifecycle at service level on SQLite and PostgreSQL: transition
checklists (rec 12/13), risk management plans (rec 13/18), stages and outstanding items, and
ERG/PGF sharing with POMs under handling rules and policy (rec 7/17)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shareplatform.access import policy_files, store
from shareplatform.access.policy_files import Rule
from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case
from shareplatform.cases.services import add_member, add_nominal, open_case
from shareplatform.domain.errors import Conflict, InvalidValue, NotFound, NotPermitted
from shareplatform.lifecycle import models as lm
from shareplatform.lifecycle import services as lc
from shareplatform.lifecycle.stages import Enquiry, Stage
from shareplatform.records.services import NewRecord, post_record
from tests.integration.mappa_world import build_world

TODAY = date.today()
TABLES = (
    lm.TransitionChecklist,
    lm.ChecklistEntry,
    lm.RiskPlan,
    lm.PlanBasis,
    lm.PlanCountersignature,
    lm.StageTransition,
    lm.LifecycleStep,
    lm.AssessmentHandling,
    lm.AssessmentShare,
)


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    return build_world(platform)


def counts(s) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out = {t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in TABLES}
    out["audit"] = s.scalar(select(func.count()).select_from(AuditEntry))
    return out


def post(world, s, rtype: str, days_ago: int = 5, who: str = "com", case_id=None):  # type: ignore[no-untyped-def]
    ctx = world.ctx(s, who)
    return post_record(
        ctx,
        case_id or world.case_id,
        NewRecord(
            rtype,
            TODAY - timedelta(days=days_ago),
            "OFFICIAL-SENSITIVE",
            [],
            f"{rtype} title",
            f"{rtype} BODY",
        ),
    )


def refused(world, exc, fn) -> None:  # type: ignore[no-untyped-def]
    """`fn(session)` raises `exc` and leaves nothing behind (audit entries included)."""
    with world.platform.transaction() as s:
        before = counts(s)
    with pytest.raises(exc), world.platform.transaction() as s:
        fn(s)
    with world.platform.transaction() as s:
        assert counts(s) == before


def plan_data(basis, **kw) -> lc.NewPlan:  # type: ignore[no-untyped-def]
    data = dict(
        supervision="SUPERVISION-TEXT twice weekly",
        monitoring="MONITORING-TEXT GPS tag",
        interventions="INTERVENTIONS-TEXT psychologist",
        victim_safety="VICTIM-TEXT exclusion zone",
        contingency="CONTINGENCY-TEXT recall if contact",
        covers=["TERRORISM", "VIOLENCE"],
        basis=[str(b) for b in basis],
        licence_conditions="LICENCE-TEXT no internet devices",
    )
    data.update(kw)
    return lc.NewPlan(**data)  # type: ignore[arg-type]


# -- transition checklists (rec 12/13) -------------------------------------------------------------
def test_checklist_outcomes_flag_owner_and_manager_until_complete(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        da = post(world, s, "ENQUIRY_DOMESTIC_ABUSE")
        checklist = lc.open_checklist(
            world.ctx(s, "com"), world.case_id, lc.NewChecklist("RELEASE", TODAY, world.ids["com"])
        )
        lc.record_entry(
            world.ctx(s, "com"), checklist.id, lc.NewEntry("DOMESTIC_ABUSE", "DONE", da.id)
        )
        cid, da_id = checklist.id, da.id
    with world.platform.transaction() as s:
        mine = lc.outstanding_checklists(world.ctx(s, "com"))
        assert [(o.checklist_id, o.missing, o.as_manager) for o in mine] == [
            (cid, [Enquiry.CHILD_SAFEGUARDING, Enquiry.ADULT_SAFEGUARDING], False)
        ]
        assert mine[0].overdue
        managed = lc.outstanding_checklists(
            world.ctx(s, "sol2")
        )  # oversight of the North, not on the case
        assert [(o.checklist_id, o.as_manager) for o in managed] == [(cid, True)]
        assert lc.outstanding_checklists(world.ctx(s, "pom")) == []  # not the owner, no oversight
        assert lc.outstanding_checklists(world.ctx(s, "far")) == []  # another unit's manager
        ctx = world.ctx(s, "com")
        lc.record_entry(
            ctx,
            cid,
            lc.NewEntry("CHILD_SAFEGUARDING", "NOT_NEEDED", reason="REASON-TEXT no children"),
        )
        lc.record_entry(
            ctx,
            cid,
            lc.NewEntry("ADULT_SAFEGUARDING", "COURT_STAGE", reason="Checked at sentencing"),
        )
    with world.platform.transaction() as s:
        assert lc.outstanding_checklists(world.ctx(s, "com")) == []
        assert lc.outstanding_checklists(world.ctx(s, "sol2")) == []
        case = s.get(Case, world.case_id)
        [view] = lc.checklists_for_case(world.ctx(s, "pom"), case)
        assert view.complete and view.entries[Enquiry.DOMESTIC_ABUSE].record_id == da_id
        assert view.entries[Enquiry.CHILD_SAFEGUARDING].reason == "REASON-TEXT no children"
        raw = s.scalar(
            select(lm.ChecklistEntry.reason_ct).where(lm.ChecklistEntry.outcome == "NOT_NEEDED")
        )
        assert b"REASON-TEXT" not in raw  # sealed
        with pytest.raises(NotPermitted):
            lc.checklists_for_case(world.ctx(s, "far"), case)


def test_checklist_bad_input_is_refused_and_nothing_stored(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        child = post(world, s, "ENQUIRY_CHILD_SAFEGUARDING")
        cid = lc.open_checklist(
            world.ctx(s, "com"),
            world.case_id,
            lc.NewChecklist("LEAVING_AP", TODAY + timedelta(days=3), world.ids["com"]),
        ).id
        child_id = child.id

    def entry(data):  # type: ignore[no-untyped-def]
        return lambda s: lc.record_entry(world.ctx(s, "com"), cid, data)

    refused(
        world, InvalidValue, entry(lc.NewEntry("DOMESTIC_ABUSE", "DONE"))
    )  # no record of the result
    refused(
        world, InvalidValue, entry(lc.NewEntry("DOMESTIC_ABUSE", "DONE", child_id))
    )  # wrong enquiry type
    refused(world, InvalidValue, entry(lc.NewEntry("DOMESTIC_ABUSE", "NOT_NEEDED", reason="  ")))
    refused(world, InvalidValue, entry(lc.NewEntry("HOUSING", "DONE", child_id)))
    refused(world, InvalidValue, entry(lc.NewEntry("CHILD_SAFEGUARDING", "MAYBE", child_id)))
    refused(
        world,
        InvalidValue,
        lambda s: lc.open_checklist(
            world.ctx(s, "com"), world.case_id, lc.NewChecklist("RELEASE", TODAY, world.ids["far"])
        ),
    )  # not on team
    refused(
        world,
        InvalidValue,
        lambda s: lc.open_checklist(
            world.ctx(s, "com"), world.case_id, lc.NewChecklist("PAROLE", TODAY, world.ids["com"])
        ),
    )
    refused(
        world,
        Conflict,
        lambda s: lc.open_checklist(
            world.ctx(s, "com"),
            world.case_id,
            lc.NewChecklist("LEAVING_AP", TODAY + timedelta(days=3), world.ids["com"]),
        ),
    )
    refused(
        world,
        NotFound,
        lambda s: lc.record_entry(
            world.ctx(s, "far"), cid, lc.NewEntry("DOMESTIC_ABUSE", "NOT_NEEDED", reason="x")
        ),
    )


# -- risk management plans (rec 13/18) -------------------------------------------------------------
def test_plan_versions_countersignature_and_stale_alert(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        oasys = post(world, s, "ASSESSMENT_OASYS", 30)
        erg = post(world, s, "ASSESSMENT_ERG", 20)
        da = post(world, s, "ENQUIRY_DOMESTIC_ABUSE", 10)
        v1 = lc.record_plan(
            world.ctx(s, "com"), world.case_id, plan_data([oasys.id, erg.id, da.id])
        )
        cl = lc.open_checklist(
            world.ctx(s, "com"), world.case_id, lc.NewChecklist("RELEASE", TODAY, world.ids["com"])
        )
        lc.record_entry(world.ctx(s, "com"), cl.id, lc.NewEntry("DOMESTIC_ABUSE", "DONE", da.id))
        v1_id = v1.id
        assert v1.classification == "OFFICIAL-SENSITIVE"
        raw = s.scalar(select(lm.RiskPlan.supervision_ct).where(lm.RiskPlan.id == v1.id))
        assert b"SUPERVISION-TEXT" not in raw
    with world.platform.transaction() as s, pytest.raises(NotPermitted):
        lc.countersign(world.ctx(s, "com"), v1_id)  # a COM is not the SOL
    with world.platform.transaction() as s:
        lc.countersign(world.ctx(s, "sol"), v1_id)
    with world.platform.transaction() as s:
        [view] = lc.plans_for_case(world.ctx(s, "pom"), world.case_id)
        assert view.version == 1 and view.text["supervision"].startswith("SUPERVISION-TEXT")
        assert view.licence_conditions == "LICENCE-TEXT no internet devices"
        assert [b.record_type.value for b in view.basis] == [
            "ASSESSMENT_OASYS",
            "ASSESSMENT_ERG",
            "ENQUIRY_DOMESTIC_ABUSE",
        ]
        assert view.basis[0].dated == TODAY - timedelta(days=30)
        assert view.countersigned_by == "Sol Person" and view.alert == ""
        assert [r.value for r in view.covers] == ["TERRORISM", "VIOLENCE"]
        [checklist] = lc.checklists_for_case(world.ctx(s, "com"), s.get(Case, world.case_id))
        assert (
            checklist.entries[Enquiry.DOMESTIC_ABUSE].in_plan == 1
        )  # the enquiry's result is in the plan
        with pytest.raises(NotFound):
            lc.plans_for_case(world.ctx(s, "far"), world.case_id)
        post(
            world, s, "ASSESSMENT_PGF", 0
        )  # a newer assessment than the plan's date? same day: not stale
    with world.platform.transaction() as s:
        assert lc.plans_for_case(world.ctx(s, "com"), world.case_id)[0].alert == ""
    # the plan predates a later ERG: written yesterday, assessed today
    with world.platform.transaction() as s:
        v2 = lc.record_plan(
            world.ctx(s, "com", TODAY - timedelta(days=1)), world.case_id, plan_data([erg.id])
        )
        assert v2.version == 2
    with world.platform.transaction() as s:
        latest = lc.plans_for_case(world.ctx(s, "com"), world.case_id)[0]
        assert latest.version == 2 and "predates the latest ERG 22+ or PGF" in latest.alert
        with pytest.raises(Conflict):
            lc.countersign(world.ctx(s, "sol"), v1_id)  # replaced by version 2
    with world.platform.transaction() as s:
        v3 = lc.record_plan(world.ctx(s, "sol"), world.case_id, plan_data([erg.id]))
        with pytest.raises(NotPermitted):
            lc.countersign(world.ctx(s, "sol"), v3.id)  # never one's own plan


def test_plan_bad_input_is_refused_and_nothing_stored(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        erg = post(world, s, "ASSESSMENT_ERG").id
        contact = post(world, s, "CONTACT_OFFICE").id
        da = post(world, s, "ENQUIRY_DOMESTIC_ABUSE").id

    def plan(who="com", **kw):  # type: ignore[no-untyped-def]
        basis = kw.pop("basis", [erg])
        return lambda s: lc.record_plan(world.ctx(s, who), world.case_id, plan_data(basis, **kw))

    refused(world, InvalidValue, plan(victim_safety="  "))
    refused(world, InvalidValue, plan(covers=[]))
    refused(world, InvalidValue, plan(covers=["ARSON"]))
    refused(world, InvalidValue, plan(basis=[contact]))  # a contact is not an assessment
    refused(world, InvalidValue, plan(basis=[da]))  # an enquiry alone is no assessment basis
    refused(world, InvalidValue, plan(basis=["not-an-id"]))
    refused(world, InvalidValue, plan(classification="TOP SECRET"))
    refused(world, NotPermitted, plan(classification="SECRET"))  # frontline never writes SECRET
    refused(world, NotFound, plan(who="far"))


# -- lifecycle stages ------------------------------------------------------------------------------
def custody_case(world, s, category: str = "TERRORIST_RISK"):  # type: ignore[no-untyped-def]
    p = world.platform
    nominal = add_nominal(s, p.system_writer, p.indexer, given_name="Life", family_name="Cycle")
    case = open_case(
        s,
        p.system_writer,
        nominal=nominal,
        reference="SP-LC1",
        category=category,
        phase="CUSTODY",
        lead_agency="PRISON",
        nsd_unit="North",
        ct_unit="CTP North East",
    )
    s.flush()
    start = TODAY - timedelta(days=800)
    for name, cap, panel in (
        ("pom", "POM", False),
        ("com", "COM", False),
        ("honsu", "HONSU", True),
        ("sol", "SOL", True),
    ):
        add_member(s, case, world.ids[name], cap, start, panel=panel)
    s.flush()
    return case.id


def test_lifecycle_stages_outstanding_items_and_triage(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        cid = custody_case(world, s)
        view = lc.case_lifecycle(world.ctx(s, "pom"), cid)
        assert view.stage is Stage.IDENTIFY and not view.recorded
        assert {i.code for i in view.outstanding} == {"VISOR", "CONVICTION"}
        assert next(i for i in view.items if i.code == "CONVICTION").owner == "Pom Person"
        lc.record_step(world.ctx(s, "pom"), cid, "CONVICTED", TODAY - timedelta(days=500))
        lc.move_stage(world.ctx(s, "pom"), cid, "PATHFINDER", "Referred after conviction")
    with world.platform.transaction() as s:
        post(world, s, "ASSESSMENT_ERG", 10, case_id=cid)  # more than 12 months after conviction
        view = lc.case_lifecycle(world.ctx(s, "com"), cid)
        assert view.stage is Stage.PATHFINDER and view.history[0].outstanding == ["VISOR"]
        assert view.history[0].rationale == "Referred after conviction"
        item = next(i for i in view.items if i.code == "ASSESSMENT")
        assert not item.done and "complete a PGF" in item.detail
        post(world, s, "ASSESSMENT_PGF", 2, case_id=cid)
        lc.record_step(world.ctx(s, "sol"), cid, "CIM_LEVEL", TODAY, value="3@CIM-2024")
        lc.record_step(world.ctx(s, "sol"), cid, "POM_INVITED", TODAY - timedelta(days=3))
    with world.platform.transaction() as s:
        view = lc.case_lifecycle(world.ctx(s, "com"), cid)
        done = {i.code for i in view.items if i.done}
        assert {"ASSESSMENT", "CIM", "POM_INVITED"} <= done and "POM_FEEDBACK" not in done
        lc.move_stage(world.ctx(s, "sol"), cid, "TRIAGE", "Pathfinder complete")
    refused(
        world,
        InvalidValue,
        lambda s: lc.record_step(world.ctx(s, "sol"), cid, "CIM_LEVEL", TODAY, "4@CIM-2021"),
    )
    refused(
        world,
        InvalidValue,
        lambda s: lc.record_step(world.ctx(s, "sol"), cid, "CIM_LEVEL", TODAY, "2@CIM-1999"),
    )
    refused(
        world,
        InvalidValue,
        lambda s: lc.record_step(world.ctx(s, "pom"), cid, "CONVICTED", TODAY + timedelta(days=1)),
    )
    refused(
        world, InvalidValue, lambda s: lc.move_stage(world.ctx(s, "sol"), cid, "EXIT", "skip ahead")
    )
    refused(
        world, InvalidValue, lambda s: lc.move_stage(world.ctx(s, "sol"), cid, "PRE_RELEASE", " ")
    )
    refused(
        world,
        NotPermitted,
        lambda s: lc.record_triage(
            world.ctx(s, "com"), cid, "ACCEPTED", "TR02_IDEOLOGY_EVIDENCED", TODAY, "why"
        ),
    )
    refused(
        world,
        InvalidValue,
        lambda s: lc.record_triage(
            world.ctx(s, "honsu"), cid, "ACCEPTED", "TR05_NO_TERRORIST_RISK", TODAY, "why"
        ),
    )
    refused(
        world,
        InvalidValue,
        lambda s: lc.record_triage(
            world.ctx(s, "honsu"), cid, "ACCEPTED", "TR02_IDEOLOGY_EVIDENCED", TODAY, ""
        ),
    )
    with world.platform.transaction() as s:
        assert not lc.case_lifecycle(world.ctx(s, "com"), cid).items[0].done
        lc.record_triage(
            world.ctx(s, "honsu"),
            cid,
            "ACCEPTED",
            "TR02_IDEOLOGY_EVIDENCED",
            TODAY,
            "Panel: ideology evidenced in custody",
        )
    with world.platform.transaction() as s:
        item = lc.case_lifecycle(world.ctx(s, "com"), cid).items[0]
        assert item.done and "TR02" in item.detail
        s.get(
            Case, cid
        ).category = "TERRORIST_CONNECTED"  # a change of category calls for re-triage
    with world.platform.transaction() as s:
        item = lc.case_lifecycle(world.ctx(s, "com"), cid).items[0]
        assert not item.done and "re-triage" in item.detail
        s.get(Case, cid).category = "TERRORIST"
    with world.platform.transaction() as s:
        assert lc.case_lifecycle(world.ctx(s, "com"), cid).items[0].detail.startswith("automatic")
        with pytest.raises(NotFound):
            lc.case_lifecycle(world.ctx(s, "far"), cid)
        lc.move_stage(world.ctx(s, "com"), cid, "PRE_RELEASE", "Release in three months")
    with world.platform.transaction() as s:
        view = lc.case_lifecycle(world.ctx(s, "com"), cid)
        assert {i.code for i in view.outstanding} == {
            "HANDOVER",
            "JOINT_VISIT",
            "LEVEL3",
            "PLAN",
            "RELEASE_CHECKS",
        }
        assert [t.to_stage for t in view.history] == [
            Stage.PATHFINDER,
            Stage.TRIAGE,
            Stage.PRE_RELEASE,
        ]
    with pytest.raises(NotPermitted), world.platform.transaction() as s:  # append-only
        s.get(
            lm.StageTransition, s.scalar(select(lm.StageTransition.id).limit(1))
        ).to_stage = "EXIT"


# -- assessments shared with POMs (rec 7/17) -------------------------------------------------------
def test_sharing_follows_handling_rule_and_policy_changes(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        erg = post(world, s, "ASSESSMENT_ERG").id
        contact = post(world, s, "CONTACT_OFFICE").id
        share = lc.share_assessment(
            world.ctx(s, "com"), erg, world.ids["pom"]
        )  # default audience: the POM
        assert share.version == 1
    refused(
        world,
        NotPermitted,
        lambda s: lc.share_assessment(world.ctx(s, "com"), erg, world.ids["nm"]),
    )
    refused(
        world,
        InvalidValue,
        lambda s: lc.share_assessment(world.ctx(s, "com"), erg, world.ids["far"]),
    )
    refused(
        world,
        NotFound,
        lambda s: lc.share_assessment(world.ctx(s, "com"), contact, world.ids["pom"]),
    )
    refused(world, InvalidValue, lambda s: lc.set_handling(world.ctx(s, "com"), erg, []))
    with world.platform.transaction() as s:
        lc.set_handling(
            world.ctx(s, "com"),
            erg,
            ["POM", "NOMINAL_MANAGER"],
            "HANDLING-TEXT not for onward sharing",
        )
    with world.platform.transaction() as s:
        lc.share_assessment(world.ctx(s, "com"), erg, world.ids["nm"])
        log = lc.sharing_log(world.ctx(s, "pom"), world.case_id)
        assert [(e.recipient, e.version, e.record_type.value) for e in log][-1] == (
            "Pom Person",
            1,
            "ASSESSMENT_ERG",
        )
        assert {e.recipient for e in log} == {"Pom Person", "Nm Person"}
        rules = lc.handling_rules(world.ctx(s, "com"), s.get(Case, world.case_id))
        assert rules[erg].instructions == "HANDLING-TEXT not for onward sharing"
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "assessment.share", AuditEntry.outcome == "done")
            )
            == 2
        )
    # a policy change withdraws ERGs from POMs: sharing refuses at once
    with world.platform.transaction() as s:
        rules = policy_files.read()
        rules.append(
            Rule("p", ("POM", "record/ASSESSMENT_ERG", "read", "*", "any", "deny"), "ERGs withheld")
        )
        store.replace_rules(s, rules)
    world.platform.access.invalidate()
    refused(
        world,
        NotPermitted,
        lambda s: lc.share_assessment(world.ctx(s, "com"), erg, world.ids["pom"]),
    )
