"""Management information (issue 9, part 2): plain rules; figures over what each viewer may see."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case
from shareplatform.cases.services import caseload, set_level
from shareplatform.domain.errors import InvalidValue
from shareplatform.domain.labels import Classification
from shareplatform.mappa.services import Attendee, NewMeeting, record_meeting
from shareplatform.records.services import NewRecord, post_record
from shareplatform.reports.compliance import case_compliance
from shareplatform.reports.dashboard import dashboard
from shareplatform.reports.reviews import chairing_hours, level3_reviews_due
from shareplatform.reports.scope import scope_for
from shareplatform.reports.standards import (
    DEFAULT_STANDARDS,
    CaseFacts,
    ContactStandard,
    Status,
    add_months,
    evaluate,
    level3_review_anchor,
)
from tests.factories import ctx_for

TODAY = date(2025, 3, 3)
WEEKLY, VISITS = DEFAULT_STANDARDS


# -- plain rules --------------------------------------------------------------------------------
def test_two_contacts_a_week_judged_per_ended_week() -> None:
    release = TODAY - timedelta(days=28)  # four weeks have ended
    contacts = [("CONTACT_OFFICE", release + timedelta(days=d)) for d in (0, 3, 7, 9, 14, 16)]
    contacts += [
        ("CONTACT_PHONE", release + timedelta(days=22)),
        ("ASSESSMENT_OASYS", release + timedelta(days=23)),
    ]
    result = evaluate(WEEKLY, CaseFacts("COMMUNITY", 3, release), contacts, TODAY)
    assert (result.status, result.periods_judged, result.periods_met) == (Status.NOT_MET, 4, 3)
    assert result.missed == (
        release + timedelta(days=21),
    )  # the week with one contact (the OASys does not count)


def test_standards_apply_only_where_they_should() -> None:
    released = TODAY - timedelta(days=30)
    assert (
        evaluate(WEEKLY, CaseFacts("CUSTODY", 3, released), [], TODAY).status
        is Status.NOT_APPLICABLE
    )
    assert evaluate(WEEKLY, CaseFacts("COMMUNITY", 1, released), [], TODAY).reason.startswith(
        "applies at MAPPA level 2"
    )
    assert (
        evaluate(WEEKLY, CaseFacts("COMMUNITY", 3, TODAY + timedelta(days=3)), [], TODAY).reason
        == "not yet released"
    )
    assert (
        evaluate(WEEKLY, CaseFacts("COMMUNITY", 3, TODAY - timedelta(days=3)), [], TODAY).status
        is Status.NOT_DUE
    )
    assert (
        evaluate(VISITS, CaseFacts("COMMUNITY", 1, TODAY - timedelta(days=200)), [], TODAY).status
        is Status.NOT_APPLICABLE
    )
    visits = [
        ("CONTACT_HOME_VISIT", released + timedelta(days=1)),
        ("CONTACT_JOINT_VISIT", released + timedelta(days=15)),
    ]
    assert (
        evaluate(VISITS, CaseFacts("POST_SENTENCE", 1, released), visits, TODAY).status
        is Status.MET
    )
    with pytest.raises(ValueError):
        ContactStandard("bad", "Bad", frozenset({"ASSESSMENT_ERG"}), 1, 7, 3)


def test_level3_clock_runs_from_release_or_the_last_level_decision() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert level3_review_anchor(
        date(2023, 1, 1), date(2023, 6, 1), date(2022, 1, 1), TODAY
    ) == date(2023, 6, 1)
    assert level3_review_anchor(
        date(2024, 1, 1), date(2023, 6, 1), date(2022, 1, 1), TODAY
    ) == date(2024, 1, 1)
    assert (
        level3_review_anchor(date(2024, 1, 1), TODAY + timedelta(days=1), date(2022, 1, 1), TODAY)
        is None
    )


# -- the demo data (SQLite copy) -------------------------------------------------------------------
def _refs(rows) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(r.reference for r in rows)


def test_chairs_see_level3_reviews_due_only_for_cases_they_may_see(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        hughes = ctx_for(seeded, s, "honsu.hughes")
        assert _refs(level3_reviews_due(hughes, scope_for(hughes))) == ["SP-1026"]  # North only
        lambert = ctx_for(seeded, s, "honsu.lambert")
        assert _refs(level3_reviews_due(lambert, scope_for(lambert))) == ["SP-1027", "SP-1030"]
        expired = ctx_for(seeded, s, "com.expired")
        assert level3_reviews_due(expired, scope_for(expired)) == []
        # custody cases at Level 3 are not due: the months run after release
        due = level3_reviews_due(
            ctx_for(seeded, s, "lro.lewis"), scope_for(ctx_for(seeded, s, "lro.lewis"))
        )
        phases = {s.scalar(select(Case.phase).where(Case.id == r.case_id)) for r in due}
        assert "CUSTODY" not in phases and due
    with seeded.transaction() as s:
        hughes = ctx_for(seeded, s, "honsu.hughes")
        case = s.scalar(select(Case).where(Case.reference == "SP-1026"))
        with pytest.raises(InvalidValue):
            set_level(s, hughes.access, hughes.subject, case, 3, hughes.today, "  ")
        set_level(
            s,
            hughes.access,
            hughes.subject,
            case,
            3,
            hughes.today,
            "Reviewed: Level 3 still needed.",
        )
    with seeded.transaction() as s:
        hughes = ctx_for(seeded, s, "honsu.hughes")
        assert level3_reviews_due(hughes, scope_for(hughes)) == []


def test_dashboard_counts_only_what_the_viewer_may_see(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        cole = ctx_for(seeded, s, "com.cole")
        board = dashboard(cole)
        assert board.figure("category").total == len(caseload(cole))
        assert all(f.key != "secret" for f in board.figures)  # frontline: no SECRET-derived counts
        assert [w.name for w in board.workload] == ["Chris Cole"]  # only their own line
        hughes = dashboard(ctx_for(seeded, s, "honsu.hughes"))
        assert {c.label for c in hughes.figure("nsd_unit").cells} == {"North"}
        assert hughes.figure("category").total == 26
        assert hughes.figure("secret").label is Classification.SECRET
        assert len(hughes.workload) > 1
        assert dashboard(ctx_for(seeded, s, "com.expired")).figure("category").total == 0
        national = dashboard(ctx_for(seeded, s, "pct.palmer"))
        assert national.scope.national and national.figure("category").total == 30
        london = next(c for c in national.figure("nsd_unit").cells if c.label == "London")
        assert (london.value, london.shown) == (4, "fewer than 5")
        assert (
            national.reviews == [] and national.workload == []
        )  # no case or person lists nationally


def test_each_dashboard_view_is_audited_once(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        before = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "reports.dashboard")
        )
        dashboard(ctx_for(seeded, s, "sol.santos"))
        after = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "reports.dashboard")
        )
        assert after == before + 1


def test_compliance_counts_only_readable_contacts(seeded) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    with seeded.transaction() as s:
        case = s.scalar(
            select(Case).where(Case.reference == "SP-1002")
        )  # community, Level 3, North
        hughes = ctx_for(seeded, s, "honsu.hughes")
        for k in range(3):
            post_record(
                hughes,
                case.id,
                NewRecord(
                    "CONTACT_OFFICE",
                    today - timedelta(days=10 + k),
                    "SECRET",
                    [],
                    "Closed contact",
                    "Seen under the sterile corridor.",
                ),
            )
    with seeded.transaction() as s:
        _, mine = case_compliance(ctx_for(seeded, s, "honsu.hughes"), case.id)
        _, theirs = case_compliance(ctx_for(seeded, s, "com.evans"), case.id)
        assert mine[0].contacts == theirs[0].contacts + 3


def test_chairing_hours_from_meetings(seeded) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.accounts.models import User

    today = date.today()

    def hours_now() -> dict[str, tuple[int, int, float]]:
        with seeded.transaction() as s:
            hughes = ctx_for(seeded, s, "honsu.hughes")
            return {
                c.name: (c.chaired, c.co_chaired, c.hours)
                for c in chairing_hours(hughes, scope_for(hughes))
            }

    before = hours_now()  # the demo data already holds a Reveal meeting they chaired
    with seeded.transaction() as s:
        uid = dict(s.execute(select(User.username, User.id)).all())
        hughes = ctx_for(seeded, s, "honsu.hughes")
        case = s.scalar(select(Case).where(Case.reference == "SP-1002"))
        record_meeting(
            hughes,
            case.id,
            NewMeeting(
                "MAPPA_L3",
                today - timedelta(days=5),
                uid["honsu.hughes"],
                uid["lro.lewis"],
                [
                    Attendee("NSD", "HONSU", user_id=uid["honsu.hughes"]),
                    Attendee("CTNM", "LRO", user_id=uid["lro.lewis"]),
                ],
                "Level 3 review meeting.",
                next_review=today + timedelta(days=30),
            ),
        )
    after = hours_now()
    added = {
        name: tuple(
            round(a - b, 2) for a, b in zip(after[name], before.get(name, (0, 0, 0.0)), strict=True)
        )
        for name in after
    }
    # a Level 3 meeting counts 2 hours for its chair and its co-chair, nobody else
    assert {n: v for n, v in added.items() if any(v)} == {
        "Helen Hughes": (1, 0, 2.0),
        "Lewis Lowe": (0, 1, 2.0),
    }
    with seeded.transaction() as s:
        cole = ctx_for(seeded, s, "com.cole")
        assert chairing_hours(cole, scope_for(cole)) == []  # per-person figures are for managers


# -- PostgreSQL: the same figures (read-only: the session is rolled back) ----------------------
@pytest.mark.postgres
def test_dashboard_on_postgres_matches(seeded_pg) -> None:  # type: ignore[no-untyped-def]
    with seeded_pg.db.sessions() as s:
        try:
            hughes = dashboard(ctx_for(seeded_pg, s, "honsu.hughes"))
            assert hughes.figure("category").total == 26
            assert _refs(hughes.reviews) == ["SP-1026"]
            assert hughes.standards[0].cases > 0
            national = dashboard(ctx_for(seeded_pg, s, "pct.palmer"))
            assert (
                next(c.shown for c in national.figure("nsd_unit").cells if c.label == "London")
                == "fewer than 5"
            )
            assert dashboard(ctx_for(seeded_pg, s, "com.cole")).figure("category").total == 20
        finally:
            s.rollback()
