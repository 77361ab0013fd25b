"""The lifecycle with the demo users and cases: checklists flagged to owner and managers, the
keyworker kept from safeguarding results, a plan countersigned by the unit's SOL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case
from shareplatform.domain.errors import NotFound, NotPermitted
from shareplatform.lifecycle import services as lc
from shareplatform.lifecycle.stages import Stage
from shareplatform.records.models import Record
from tests.factories import ctx_for


def test_demo_users_checklist_plan_and_lifecycle(seeded) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    with seeded.transaction() as s:
        case = s.scalar(select(Case).where(Case.reference == "SP-1001"))
        cole = s.scalar(select(User.id).where(User.username == "com.cole"))
        com = ctx_for(seeded, s, "com.cole")
        checklist = lc.open_checklist(
            com, case.id, lc.NewChecklist("RELEASE", today + timedelta(days=30), cole)
        )
        erg = s.scalar(
            select(Record.id).where(
                Record.case_id == case.id, Record.record_type == "ASSESSMENT_ERG"
            )
        )
        plan = lc.record_plan(
            com,
            case.id,
            lc.NewPlan(
                "Twice weekly",
                "GPS tag",
                "Psychologist sessions",
                "Exclusion zone",
                "Recall on contact",
                ["TERRORISM"],
                [erg],
            ),
        )
        case_id, checklist_id, plan_id = case.id, checklist.id, plan.id
    with seeded.transaction() as s:
        flagged = {
            u: [o.checklist_id for o in lc.outstanding_checklists(ctx_for(seeded, s, u))]
            for u in ("com.cole", "sol.santos", "honsu.hughes", "honsu.lambert", "pom.parker")
        }
        assert flagged == {
            "com.cole": [checklist_id],
            "sol.santos": [checklist_id],
            "honsu.hughes": [checklist_id],
            "honsu.lambert": [],
            "pom.parker": [],
        }
        assert not lc.outstanding_checklists(ctx_for(seeded, s, "com.cole"))[0].overdue
        with pytest.raises(NotPermitted):  # keyworkers do not see DA and safeguarding results
            lc.checklists_for_case(ctx_for(seeded, s, "keyworker.khan"), s.get(Case, case_id))
        assert (
            lc.plans_for_case(ctx_for(seeded, s, "keyworker.khan"), case_id)[0].text["supervision"]
            == "Twice weekly"
        )
        lc.countersign(ctx_for(seeded, s, "sol.santos"), plan_id)
    with seeded.transaction() as s:
        view = lc.case_lifecycle(ctx_for(seeded, s, "pom.parker"), case_id)
        assert view.stage is Stage.IDENTIFY  # a custody case with no transition recorded yet
        assert (
            lc.plans_for_case(ctx_for(seeded, s, "com.cole"), case_id)[0].countersigned_by
            == "Sofia Santos"
        )
        with pytest.raises(NotFound):  # expired vetting: the case is not theirs to know about
            lc.case_lifecycle(
                ctx_for(seeded, s, "com.expired"),
                s.scalar(select(Case.id).where(Case.reference == "SP-1002")),
            )
