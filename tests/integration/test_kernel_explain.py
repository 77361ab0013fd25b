"""decide() explains itself in words a user or administrator can act on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.access.vocabulary import Act
from shareplatform.records.models import Record
from shareplatform.records.services import record_facts
from tests.security.demo_support import case_by_ref, reading
from tests.support.factories import Member, case, record, user

TODAY = date.today()
RELEASED = TODAY - timedelta(days=90)  # the community case's release: the POM handed over then
EXPIRED = TODAY - timedelta(days=12)  # com.expired's SC vetting
CUSTODY, COMMUNITY = "EX-1", "EX-2"  # both in the North unit and CTP North East


@pytest.fixture(scope="module")
def world(module_platform):  # type: ignore[no-untyped-def]
    """Two North cases and the people the explanations are about, built once per backend."""
    p = module_platform
    with p.transaction() as s:
        parker = user(p, s, "pom.parker", role="POM", vetting="CTC")
        cole = user(p, s, "com.cole", role="COM", nsd_unit="North")
        evans = user(p, s, "com.evans", role="COM", vetting="BPSS", nsd_unit="North")
        expired = user(p, s, "com.expired", role="COM", expires=EXPIRED, nsd_unit="North")
        khan = user(p, s, "keyworker.khan", role="KEYWORKER", vetting="BPSS")
        nash = user(p, s, "nm.nash", role="NOMINAL_MANAGER", ct_unit="CTP North East")
        hughes = user(p, s, "honsu.hughes", role="HONSU", vetting="DV", nsd_unit="North")
        lewis = user(p, s, "lro.lewis", role="LRO", vetting="DV", ct_unit="CTP North East")
        user(p, s, "honsu.lambert", role="HONSU", nsd_unit="London")
        # oversight of the CT unit, on no team or panel
        user(p, s, "ds.dean", role="NM_SUPERVISOR", ct_unit="CTP North East")
        user(p, s, "auditor.adams", role="AUDITOR", vetting="BPSS")
        panel = [(hughes, "HONSU"), (lewis, "LRO")]

        custody = case(
            p,
            s,
            CUSTODY,
            phase="CUSTODY",
            team=[
                Member(parker, "POM", lead=True),
                (khan, "KEYWORKER"),
                (cole, "COM", TODAY - timedelta(days=60)),  # pre-release handover
                (nash, "NOMINAL_MANAGER"),
            ],
            panel=panel,
        )
        on = TODAY - timedelta(days=30)
        record(p, s, custody.id, cole, label="OFFICIAL", occurred_on=on)
        record(p, s, custody.id, hughes, label="SECRET", record_type="MINUTES", occurred_on=on)
        record(p, s, custody.id, lewis, label="SECRET", orcon=True, record_type="MINUTES")
        record(
            p, s, custody.id, nash, orcon=True, record_type="ENQUIRY_DOMESTIC_ABUSE", occurred_on=on
        )
        record(p, s, custody.id, parker, label="OFFICIAL", record_type="ASSESSMENT_ERG")

        community = case(
            p,
            s,
            COMMUNITY,
            release_date=RELEASED,
            team=[
                (parker, "POM", TODAY - timedelta(days=500), RELEASED),
                Member(evans, "COM", RELEASED + timedelta(days=1), lead=True),
                (expired, "COM"),
                (nash, "NOMINAL_MANAGER"),
            ],
            panel=panel,
        )
        record(p, s, community.id, evans, label="OFFICIAL", occurred_on=on)
        record(p, s, community.id, hughes, label="SECRET", record_type="MINUTES", occurred_on=on)
    return p


def _explain(world, username: str, ref: str, where, act: str = "read") -> str:  # type: ignore[no-untyped-def]
    with reading(world, username) as ctx:
        case = case_by_ref(ctx, ref)
        found = ctx.session.scalars(
            select(Record).where(Record.case_id == case.id, *where).order_by(Record.occurred_on)
        ).first()
        assert found is not None
        decision = ctx.access.decide(
            ctx.session, ctx.subject, record_facts(ctx, case, found), Act(act)
        )
        return decision.explanation


OFFICIAL = (Record.classification == "OFFICIAL",)
SECRET = (Record.classification == "SECRET", Record.caveats == "")


def test_ended_membership_names_the_date(world) -> None:  # type: ignore[no-untyped-def]
    # on the community case the POM's membership ended at release, 90 days ago
    text = _explain(world, "pom.parker", COMMUNITY, OFFICIAL)
    assert text == f"denied: not on the case team since {RELEASED:%d %B %Y}"


def test_denials_read_right(world) -> None:  # type: ignore[no-untyped-def]
    assert (
        _explain(world, "com.expired", COMMUNITY, OFFICIAL)
        == f"denied: your SC vetting expired on {EXPIRED:%d %B %Y}"
    )
    assert (
        _explain(world, "com.evans", COMMUNITY, SECRET)
        == "denied: your BPSS vetting does not cover this material"
    )
    assert (
        _explain(world, "com.cole", CUSTODY, SECRET)
        == "denied: SECRET material is shared only through the sterile corridor"
    )
    assert (
        _explain(
            world,
            "pom.parker",
            CUSTODY,
            (
                Record.caveats.contains("ORCON"),
                Record.originating_agency != "PRISON",
                Record.classification != "SECRET",
            ),
        )
        == "denied: originator-controlled (ORCON) material, not released to your agency"
    )
    assert (
        _explain(world, "auditor.adams", CUSTODY, OFFICIAL)
        == "denied: administrator and auditor roles do not read case content"
    )
    assert (
        _explain(world, "honsu.lambert", CUSTODY, OFFICIAL)
        == "denied: you are not on this case's team or panel"
    )
    keyworker = _explain(
        world, "keyworker.khan", CUSTODY, (Record.record_type == "ASSESSMENT_ERG",)
    )
    assert keyworker.startswith("denied: keyworkers see plan objectives")
    assert "policy line" not in keyworker


def test_allowances_say_why(world) -> None:  # type: ignore[no-untyped-def]
    assert (
        _explain(world, "nm.nash", CUSTODY, OFFICIAL) == "allowed: Nominal manager on the case team"
    )
    assert (
        _explain(world, "honsu.hughes", CUSTODY, SECRET)
        == "allowed: Head of National Security Unit on the case's MAPPA panel"
    )
    assert (
        _explain(world, "ds.dean", CUSTODY, SECRET)
        == "allowed: Nominal management supervisor (DS) with oversight of the case's unit"
    )
