"""The lifecycle forms through the web: a new plan version, a step and a triage decision, and
sharing an assessment. Each refuses bad input with the error summary, keeps what was typed and
stores nothing; good input is stored through the existing service."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case
from shareplatform.lifecycle.models import AssessmentShare, LifecycleStep, RiskPlan
from shareplatform.records.models import Record
from tests.support.web import post_form, sign_in, text


def _ids(seeded, reference: str, record_type: str | None = None):  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        case = s.scalar(select(Case).where(Case.reference == reference))
        record = None
        if record_type:
            record = s.scalar(
                select(Record.id).where(
                    Record.case_id == case.id,
                    Record.record_type == record_type,
                    Record.classification.in_(("OFFICIAL", "OFFICIAL-SENSITIVE")),
                    Record.caveats == "",
                )
            )
        return str(case.id), str(record) if record else None


def _count(seeded, model, case_id: str) -> int:  # type: ignore[no-untyped-def]
    import uuid

    with seeded.transaction() as s:
        return s.scalar(
            select(func.count()).select_from(model).where(model.case_id == uuid.UUID(case_id))
        )


def _today() -> dict[str, str]:
    t = date.today()
    return {"day": str(t.day), "month": str(t.month), "year": str(t.year)}


def test_new_plan_version(client, seeded) -> None:  # type: ignore[no-untyped-def]
    case_id, pgf = _ids(seeded, "SP-1001", "ASSESSMENT_PGF")
    assert pgf
    sign_in(client, seeded, "com.cole")
    page = text(client.get(f"/cases/{case_id}/lifecycle"))
    assert f"/cases/{case_id}/lifecycle/plan/new" in page
    url = f"/cases/{case_id}/lifecycle/plan/new"
    form = text(client.get(url))
    assert "Write version 1 of the risk management plan" in form
    assert pgf in form  # the PGF is offered as a basis
    before = _count(seeded, RiskPlan, case_id)
    typed = {
        "supervision": "Weekly visits by the COM",
        "monitoring": "GPS tag and curfew",
        "interventions": "Desistance sessions",
        "victim_safety": "Exclusion zone around the victim's address",
        "contingency": "Recall on any contact with the victim",
        "classification": "OFFICIAL-SENSITIVE",
        "basis": pgf,
    }
    r = post_form(client, url, typed, form)  # no risks ticked
    body = text(r)
    assert r.status_code == 400
    assert "govuk-error-summary" in body and 'href="#covers"' in body
    assert "Exclusion zone around the victim&#39;s address" in body  # kept what was typed
    assert _count(seeded, RiskPlan, case_id) == before
    r = post_form(client, url, {**typed, "covers": ["TERRORISM", "VIOLENCE"]}, form)
    assert r.status_code == 302, text(r)[:2000]
    assert _count(seeded, RiskPlan, case_id) == before + 1
    page = text(client.get(f"/cases/{case_id}/lifecycle"))
    assert "Weekly visits by the COM" in page and "Not yet countersigned" in page
    # The next form starts from the current version
    assert "Weekly visits by the COM" in text(client.get(url))


def test_step_and_triage(client, seeded) -> None:  # type: ignore[no-untyped-def]
    case_id, _ = _ids(seeded, "SP-1002")
    sign_in(client, seeded, "honsu.hughes")
    url = f"/cases/{case_id}/lifecycle/steps"
    form = text(client.get(url))
    assert "Record the NSD triage panel" in form and "TR05" in form
    before = _count(seeded, LifecycleStep, case_id)
    r = post_form(client, url, {"action": "step", "step": "PATHFINDER_REFERRAL"}, form)
    assert r.status_code == 400 and 'href="#occurred_on-day"' in text(r)  # no date
    bad = {
        "action": "triage",
        "outcome": "ACCEPTED",
        "reason_code": "TR05_NO_TERRORIST_RISK",
        "triage_note": "Panel agreed on the evidence",
        **{f"triage_on-{k}": v for k, v in _today().items()},
    }
    r = post_form(client, url, bad, form)
    body = text(r)
    assert r.status_code == 400 and 'href="#reason_code"' in body
    assert "does not support a decision to accepted" in body
    assert "Panel agreed on the evidence" in body
    assert _count(seeded, LifecycleStep, case_id) == before
    r = post_form(client, url, {**bad, "reason_code": "TR03_INTELLIGENCE"}, form)
    assert r.status_code == 302, text(r)[:2000]
    step = {
        "action": "step",
        "step": "PATHFINDER_REFERRAL",
        "note": "Referred to Pathfinder",
        **{f"occurred_on-{k}": v for k, v in _today().items()},
    }
    r = post_form(client, url, step, form)
    assert r.status_code == 302, text(r)[:2000]
    assert _count(seeded, LifecycleStep, case_id) == before + 2
    page = text(client.get(url))
    assert "Referred to Pathfinder" in page and "TR03_INTELLIGENCE" in page


def test_triage_refused_to_a_team_member(client, seeded) -> None:  # type: ignore[no-untyped-def]
    case_id, _ = _ids(seeded, "SP-1002")
    sign_in(client, seeded, "com.evans")
    url = f"/cases/{case_id}/lifecycle/steps"
    form = text(client.get(url))
    assert "Record the NSD triage panel" not in form
    data = {
        "action": "triage",
        "outcome": "DECLINED",
        "reason_code": "TR05_NO_TERRORIST_RISK",
        "triage_note": "No risk",
        **{f"triage_on-{k}": v for k, v in _today().items()},
    }
    before = _count(seeded, LifecycleStep, case_id)
    r = post_form(client, url, data, form)
    assert r.status_code == 400 and "senior manager on the panel" in text(r)
    assert _count(seeded, LifecycleStep, case_id) == before


def test_share_assessment(client, seeded) -> None:  # type: ignore[no-untyped-def]
    case_id, pgf = _ids(seeded, "SP-1001", "ASSESSMENT_PGF")
    with seeded.transaction() as s:
        parker = str(s.scalar(select(User.id).where(User.username == "pom.parker")))
        nash = str(s.scalar(select(User.id).where(User.username == "nm.nash")))
    sign_in(client, seeded, "com.cole")
    url = f"/cases/{case_id}/lifecycle/sharing"
    form = text(client.get(url))
    assert "No assessment has been shared yet" in form and pgf in form
    r = post_form(client, url, {"record_id": pgf}, form)
    assert r.status_code == 400 and 'href="#recipient_id"' in text(r)
    r = post_form(client, url, {"record_id": pgf, "recipient_id": nash}, form)
    assert r.status_code == 400 and "handling rule" in text(r)  # only the POM by default
    assert _count(seeded, AssessmentShare, case_id) == 0
    r = post_form(client, url, {"record_id": pgf, "recipient_id": parker}, form)
    assert r.status_code == 302, text(r)[:2000]
    assert _count(seeded, AssessmentShare, case_id) == 1
    assert "Priya Parker" in text(client.get(url))
