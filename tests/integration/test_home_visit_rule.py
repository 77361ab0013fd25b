"""Rec 20: a police home visit cannot be recorded without a recent home-visit risk assessment."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shareplatform.domain.errors import InvalidValue
from shareplatform.records.models import Record
from shareplatform.records.services import NewRecord, post_record
from tests.support.factories import case, ctx_for, record, user


def _visit(ctx, days_ago: int, rtype: str = "CONTACT_HOME_VISIT", joint=()):  # type: ignore[no-untyped-def]
    return NewRecord(
        rtype,
        ctx.today - timedelta(days=days_ago),
        "OFFICIAL-SENSITIVE",
        [],
        "Home visit",
        "Visited the approved address.",
        list(joint),
    )


@pytest.fixture
def assessed(platform):  # type: ignore[no-untyped-def]
    """A North case held by a COM and a nominal manager; the police completed its home-visit
    risk assessment 3 days ago. Returns the case id."""
    with platform.transaction() as s:
        com = user(platform, s, "com.cole", role="COM", nsd_unit="North")
        nm = user(platform, s, "nm.nash", role="NOMINAL_MANAGER", ct_unit="CTP North East")
        c = case(platform, s, "HV-1", team=[(com, "COM"), (nm, "NOMINAL_MANAGER")])
        record(
            platform,
            s,
            c.id,
            nm,
            record_type="ASSESSMENT_HOME_VISIT_RISK",
            occurred_on=ctx_for(platform, s, "nm.nash").today - timedelta(days=3),
            body="Address checked; two officers to attend; control room informed.",
        )
        return c.id


def test_police_home_visit_needs_a_current_assessment(platform, assessed) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "nm.nash")
        before = session.scalar(select(func.count()).select_from(Record))
        # the assessment was completed 3 days ago: a visit today is allowed
        post_record(ctx, assessed, _visit(ctx, 0))
        assert session.scalar(select(func.count()).select_from(Record)) == before + 1
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "nm.nash")
        # a visit 10 days ago predates the assessment: refused, nothing stored
        with pytest.raises(InvalidValue, match="home-visit risk assessment"):
            post_record(ctx, assessed, _visit(ctx, 10))
        assert session.scalar(select(func.count()).select_from(Record)) == before + 1


def test_joint_visit_with_police_needs_it_too_but_probation_alone_does_not(
    platform, assessed
) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "com.cole")
        with pytest.raises(InvalidValue, match="home-visit risk assessment"):
            post_record(ctx, assessed, _visit(ctx, 10, "CONTACT_JOINT_VISIT", ["CTNM"]))
        post_record(
            ctx, assessed, _visit(ctx, 10)
        )  # a probation-only home visit is not a police visit
