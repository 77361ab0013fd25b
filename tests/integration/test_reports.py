"""Management information: plain rules; figures over what each viewer may see."""

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
from tests.support.factories import Member, case, ctx_for, record, user

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


# -- figures over a small world of cases (each backend) --------------------------------------
N_DUE, N_RECENT, N_CUSTODY, N_STEPPED = "RP-1001", "RP-1002", "RP-1003", "RP-1004"  # North
L_DUE, L_SENTENCE_DUE = "RP-1005", "RP-1006"  # London: fewer than 5 cases
NORTH_CASES, ALL_CASES = 4, 6


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    """Six cases. North: at Level 3 for 12 months since release (due a review), released 100 days
    ago (not yet due), in custody (the clock has not started), stepped down to Level 2. London:
    two due a review. Every panel: the unit's HoNSU, the LRO and the North SOL."""
    today = date.today()
    long_ago = today - timedelta(days=400)
    with platform.transaction() as s:

        def person(username: str, name: str, role: str, **traits: object):  # type: ignore[no-untyped-def]
            return user(platform, s, username, name=name, role=role, **traits)

        cole = person("com.cole", "Chris Cole", "COM", nsd_unit="North")
        evans = person("com.evans", "Erin Evans", "COM", vetting="BPSS", nsd_unit="North")
        expired = person(
            "com.expired",
            "Evan Expired",
            "COM",
            nsd_unit="North",
            expires=today - timedelta(days=12),
        )
        lowry = person("com.lowry", "Lou Lowry", "COM", nsd_unit="London")
        parker = person("pom.parker", "Priya Parker", "POM", vetting="CTC")
        hughes = person("honsu.hughes", "Helen Hughes", "HONSU", vetting="DV", nsd_unit="North")
        lambert = person("honsu.lambert", "Leo Lambert", "HONSU", nsd_unit="London")
        lewis = person("lro.lewis", "Lewis Lowe", "LRO", vetting="DV", ct_unit="CTP North East")
        santos = person("sol.santos", "Sofia Santos", "SOL", nsd_unit="North")
        person("pct.palmer", "Piers Palmer", "PCT_LEAD")  # national statistics

        def opened(ref: str, unit: str, honsu, team, levels=((3, long_ago),), **traits):  # type: ignore[no-untyped-def]
            return case(
                platform,
                s,
                ref,
                nsd_unit=unit,
                ct_unit="CTP North East" if unit == "North" else "CTP London",
                team=team,
                panel=[(honsu, "HONSU"), (lewis, "LRO"), (santos, "SOL")],
                levels=[(lvl, since, f"Level {lvl} agreed.", honsu) for lvl, since in levels],
                **traits,
            )

        opened(
            N_DUE,
            "North",
            hughes,
            [Member(cole, "COM", lead=True)],
            release_date=today - timedelta(days=380),
        )
        recent = opened(
            N_RECENT,
            "North",
            hughes,
            [Member(evans, "COM", lead=True), (expired, "COM")],
            release_date=today - timedelta(days=100),
        )
        for k in range(2):
            record(platform, s, recent.id, evans, occurred_on=today - timedelta(days=20 + k))
        opened(
            N_CUSTODY,
            "North",
            hughes,
            [Member(parker, "POM", lead=True), (cole, "COM", today - timedelta(days=60))],
            phase="CUSTODY",
            release_date=today + timedelta(days=60),
        )
        opened(
            N_STEPPED,
            "North",
            hughes,
            [Member(evans, "COM", lead=True)],
            levels=((3, long_ago), (2, today - timedelta(days=20))),
            phase="POST_SENTENCE",
            release_date=today - timedelta(days=200),
        )
        opened(
            L_DUE,
            "London",
            lambert,
            [Member(lowry, "COM", lead=True)],
            release_date=today - timedelta(days=500),
        )
        opened(
            L_SENTENCE_DUE,
            "London",
            lambert,
            [Member(lowry, "COM", lead=True)],
            phase="POST_SENTENCE",
            release_date=today - timedelta(days=450),
        )
    return platform


def _refs(rows) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(r.reference for r in rows)


def test_chairs_see_level3_reviews_due_only_for_cases_they_may_see(world) -> None:  # type: ignore[no-untyped-def]
    with world.transaction() as s:
        hughes = ctx_for(world, s, "honsu.hughes")
        assert _refs(level3_reviews_due(hughes, scope_for(hughes))) == [N_DUE]  # North only
        lambert = ctx_for(world, s, "honsu.lambert")
        assert _refs(level3_reviews_due(lambert, scope_for(lambert))) == [L_DUE, L_SENTENCE_DUE]
        expired = ctx_for(world, s, "com.expired")
        assert level3_reviews_due(expired, scope_for(expired)) == []
        # custody cases at Level 3 are not due: the months run after release
        lewis = ctx_for(world, s, "lro.lewis")
        due = level3_reviews_due(lewis, scope_for(lewis))
        phases = {s.scalar(select(Case.phase).where(Case.id == r.case_id)) for r in due}
        assert "CUSTODY" not in phases and due
    with world.transaction() as s:
        hughes = ctx_for(world, s, "honsu.hughes")
        case = s.scalar(select(Case).where(Case.reference == N_DUE))
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
    with world.transaction() as s:
        hughes = ctx_for(world, s, "honsu.hughes")
        assert level3_reviews_due(hughes, scope_for(hughes)) == []


def test_dashboard_counts_only_what_the_viewer_may_see(world) -> None:  # type: ignore[no-untyped-def]
    with world.transaction() as s:
        cole = ctx_for(world, s, "com.cole")
        board = dashboard(cole)
        assert board.figure("category").total == len(caseload(cole)) == 2
        assert all(f.key != "secret" for f in board.figures)  # frontline: no SECRET-derived counts
        assert [w.name for w in board.workload] == ["Chris Cole"]  # only their own line
        hughes = dashboard(ctx_for(world, s, "honsu.hughes"))
        assert {c.label for c in hughes.figure("nsd_unit").cells} == {"North"}
        assert hughes.figure("category").total == NORTH_CASES
        assert hughes.figure("secret").label is Classification.SECRET
        assert len(hughes.workload) > 1
        assert _refs(hughes.reviews) == [N_DUE]
        assert hughes.standards[0].cases > 0
        assert dashboard(ctx_for(world, s, "com.expired")).figure("category").total == 0
        national = dashboard(ctx_for(world, s, "pct.palmer"))
        assert national.scope.national and national.figure("category").total == ALL_CASES
        london = next(c for c in national.figure("nsd_unit").cells if c.label == "London")
        assert (london.value, london.shown) == (2, "fewer than 5")
        assert (
            national.reviews == [] and national.workload == []
        )  # no case or person lists nationally


def test_each_dashboard_view_is_audited_once(world) -> None:  # type: ignore[no-untyped-def]
    with world.transaction() as s:
        before = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "reports.dashboard")
        )
        dashboard(ctx_for(world, s, "sol.santos"))
        after = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "reports.dashboard")
        )
        assert after == before + 1


def test_compliance_counts_only_readable_contacts(world) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    with world.transaction() as s:
        case = s.scalar(select(Case).where(Case.reference == N_RECENT))  # community, Level 3
        hughes = ctx_for(world, s, "honsu.hughes")
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
    with world.transaction() as s:
        _, mine = case_compliance(ctx_for(world, s, "honsu.hughes"), case.id)
        _, theirs = case_compliance(ctx_for(world, s, "com.evans"), case.id)
        assert theirs[0].contacts == 2  # the COM's own office contacts
        assert mine[0].contacts == theirs[0].contacts + 3


def test_chairing_hours_from_meetings(world) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.accounts.models import User

    today = date.today()

    def meet(meeting_type: str, reference: str, days_ago: int, **minutes: str) -> None:
        with world.transaction() as s:
            uid = dict(s.execute(select(User.username, User.id)).all())
            hughes = ctx_for(world, s, "honsu.hughes")
            case = s.scalar(select(Case).where(Case.reference == reference))
            record_meeting(
                hughes,
                case.id,
                NewMeeting(
                    meeting_type,
                    today - timedelta(days=days_ago),
                    uid["honsu.hughes"],
                    uid["lro.lewis"],
                    [
                        Attendee("NSD", "HONSU", user_id=uid["honsu.hughes"]),
                        Attendee("CTNM", "LRO", user_id=uid["lro.lewis"]),
                    ],
                    minutes.get("open", "Level 3 review meeting."),
                    minutes.get("closed", ""),
                    next_review=today + timedelta(days=30),
                ),
            )

    def hours_now() -> dict[str, tuple[int, int, float]]:
        with world.transaction() as s:
            hughes = ctx_for(world, s, "honsu.hughes")
            return {
                c.name: (c.chaired, c.co_chaired, c.hours)
                for c in chairing_hours(hughes, scope_for(hughes))
            }

    meet("REVEAL", N_CUSTODY, 6, open="Release planning.", closed="Closed part: briefing.")
    before = hours_now()  # a Reveal meeting they already chaired
    assert before["Helen Hughes"] == (1, 0, 1.0)
    meet("MAPPA_L3", N_RECENT, 5)
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
    with world.transaction() as s:
        cole = ctx_for(world, s, "com.cole")
        assert chairing_hours(cole, scope_for(cole)) == []  # per-person figures are for managers
