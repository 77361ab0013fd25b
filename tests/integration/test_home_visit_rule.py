"""Rec 20: a police home visit cannot be recorded without a recent home-visit risk assessment."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shareplatform.cases.models import Case
from shareplatform.domain.errors import InvalidValue
from shareplatform.records.models import Record
from shareplatform.records.services import NewRecord, post_record
from tests.factories import ctx_for


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


def test_police_home_visit_needs_a_current_assessment(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded.transaction() as session:
        ctx = ctx_for(seeded, session, "nm.nash")
        case_id = sorted(ctx.subject.team_cases)[0]
        before = session.scalar(select(func.count()).select_from(Record))
        # the demo assessment was completed 3 days ago: a visit today is allowed
        post_record(ctx, case_id, _visit(ctx, 0))
        assert session.scalar(select(func.count()).select_from(Record)) == before + 1
    with seeded.transaction() as session:
        ctx = ctx_for(seeded, session, "nm.nash")
        # a visit 10 days ago predates the assessment: refused, nothing stored
        with pytest.raises(InvalidValue, match="home-visit risk assessment"):
            post_record(ctx, case_id, _visit(ctx, 10))


def test_joint_visit_with_police_needs_it_too_but_probation_alone_does_not(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded.transaction() as session:
        ctx = ctx_for(seeded, session, "com.cole")
        case = session.get(Case, sorted(ctx.subject.team_cases)[0])
        with pytest.raises(InvalidValue, match="home-visit risk assessment"):
            post_record(ctx, case.id, _visit(ctx, 10, "CONTACT_JOINT_VISIT", ["CTNM"]))
        post_record(
            ctx, case.id, _visit(ctx, 10)
        )  # a probation-only home visit is not a police visit
