"""decide() explains itself in words a user or administrator can act on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.access.vocabulary import Act
from shareplatform.records.models import Record
from shareplatform.records.services import record_facts
from tests.security.demo_support import case_by_ref, reading


@pytest.fixture(params=["seeded", "seeded_pg"])
def demo(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return request.getfixturevalue(request.param)


def _explain(platform, username: str, ref: str, where, act: str = "read") -> str:  # type: ignore[no-untyped-def]
    with reading(platform, username) as ctx:
        case = case_by_ref(ctx, ref)
        record = ctx.session.scalars(
            select(Record).where(Record.case_id == case.id, *where).order_by(Record.occurred_on)
        ).first()
        assert record is not None
        decision = ctx.access.decide(
            ctx.session, ctx.subject, record_facts(ctx, case, record), Act(act)
        )
        return decision.explanation


OFFICIAL = (Record.classification == "OFFICIAL",)
SECRET = (Record.classification == "SECRET", Record.caveats == "")


def test_ended_membership_names_the_date(demo) -> None:  # type: ignore[no-untyped-def]
    # demo: on community cases the POM's membership ended at release, 90 days ago
    ended = date.today() - timedelta(days=90)
    text = _explain(demo, "pom.parker", "SP-1002", OFFICIAL)
    assert text == f"denied: not on the case team since {ended:%d %B %Y}"


def test_denials_read_right(demo) -> None:  # type: ignore[no-untyped-def]
    expired = date.today() - timedelta(days=12)
    assert (
        _explain(demo, "com.expired", "SP-1002", OFFICIAL)
        == f"denied: your SC vetting expired on {expired:%d %B %Y}"
    )
    assert (
        _explain(demo, "com.evans", "SP-1002", SECRET)
        == "denied: your BPSS vetting does not cover this material"
    )
    assert (
        _explain(demo, "com.cole", "SP-1001", SECRET)
        == "denied: SECRET material is shared only through the sterile corridor"
    )
    assert (
        _explain(
            demo,
            "pom.parker",
            "SP-1001",
            (
                Record.caveats.contains("ORCON"),
                Record.originating_agency != "PRISON",
                Record.classification != "SECRET",
            ),
        )
        == "denied: originator-controlled (ORCON) material, not released to your agency"
    )
    assert (
        _explain(demo, "auditor.adams", "SP-1001", OFFICIAL)
        == "denied: administrator and auditor roles do not read case content"
    )
    assert (
        _explain(demo, "honsu.lambert", "SP-1001", OFFICIAL)
        == "denied: you are not on this case's team or panel"
    )
    keyworker = _explain(
        demo, "keyworker.khan", "SP-1001", (Record.record_type == "ASSESSMENT_ERG",)
    )
    assert keyworker.startswith("denied: keyworkers see plan objectives")
    assert "policy line" not in keyworker


def test_allowances_say_why(demo) -> None:  # type: ignore[no-untyped-def]
    assert (
        _explain(demo, "nm.nash", "SP-1001", OFFICIAL)
        == "allowed: Nominal manager on the case team"
    )
    assert (
        _explain(demo, "honsu.hughes", "SP-1001", SECRET)
        == "allowed: Head of National Security Unit on the case's MAPPA panel"
    )
    assert (
        _explain(demo, "ds.dean", "SP-1001", SECRET)
        == "allowed: Nominal management supervisor (DS) with oversight of the case's unit"
    )
