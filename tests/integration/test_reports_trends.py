"""Trends over time: figures per month for a known small world, the unit and period filter, and
400 for a bad filter value (an out-of-scope unit answers exactly as one that does not exist)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case
from shareplatform.domain.errors import InvalidValue
from shareplatform.mappa.services import Attendee, NewMeeting, record_meeting
from shareplatform.reports.charts import line_svg
from shareplatform.reports.standards import add_months
from shareplatform.reports.trends import trends
from tests.factories import app_for
from tests.support.factories import PASSWORD, case, ctx_for, record, user
from tests.support.web import sign_in, text

THIS = date.today().replace(day=1)
LAST = add_months(THIS, -1)
TWO_AGO = add_months(THIS, -2)


@pytest.fixture
def small_world(platform):  # type: ignore[no-untyped-def]
    """North case TR-N: this month two office contacts, an OASys and a SECRET contact; last month
    a phone contact; a record 14 months ago. London case TR-L: one contact this month. Meetings
    on TR-N: two months ago (its next review fell last month and passed: overdue) and this month."""
    today = date.today()
    with platform.transaction() as s:
        cole = user(platform, s, "com.cole", role="COM", nsd_unit="North")
        lowry = user(platform, s, "com.lowry", role="COM", nsd_unit="London")
        hughes = user(
            platform,
            s,
            "honsu.hughes",
            role="HONSU",
            vetting="DV",
            nsd_unit="North",
            password=PASSWORD,
        )
        lambert = user(platform, s, "honsu.lambert", role="HONSU", nsd_unit="London")
        lewis = user(platform, s, "lro.lewis", role="LRO", vetting="DV", ct_unit="CTP North East")
        user(platform, s, "pct.palmer", role="PCT_LEAD")
        north = case(
            platform,
            s,
            "TR-N",
            team=[(cole, "COM")],
            panel=[(hughes, "HONSU"), (lewis, "LRO")],
        )
        london = case(
            platform,
            s,
            "TR-L",
            nsd_unit="London",
            ct_unit="CTP London",
            team=[(lowry, "COM")],
            panel=[(lambert, "HONSU")],
        )
        for day in (THIS, THIS):
            record(platform, s, north.id, cole, occurred_on=day)
        record(platform, s, north.id, cole, occurred_on=THIS, record_type="ASSESSMENT_OASYS")
        record(platform, s, north.id, hughes, occurred_on=THIS, label="SECRET")
        record(platform, s, north.id, cole, occurred_on=LAST, record_type="CONTACT_PHONE")
        record(platform, s, north.id, cole, occurred_on=add_months(THIS, -14))
        record(platform, s, london.id, lowry, occurred_on=THIS)
        assert today >= THIS
    for held, review in ((TWO_AGO, LAST + timedelta(days=9)), (THIS, today + timedelta(days=30))):
        with platform.transaction() as s:
            uid = dict(s.execute(select(User.username, User.id)).all())
            chair = ctx_for(platform, s, "honsu.hughes")
            case_id = s.scalar(select(Case.id).where(Case.reference == "TR-N"))
            record_meeting(
                chair,
                case_id,
                NewMeeting(
                    "MAPPA_L3",
                    held,
                    uid["honsu.hughes"],
                    uid["lro.lewis"],
                    [
                        Attendee("NSD", "HONSU", user_id=uid["honsu.hughes"]),
                        Attendee("CTNM", "LRO", user_id=uid["lro.lewis"]),
                    ],
                    "Level 3 review: risk management plan reviewed.",
                    "",
                    next_review=review,
                ),
            )
    return platform


def _figures(platform, username: str, **args: str) -> dict[str, dict[str, tuple[int, ...]]]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        found = trends(ctx_for(platform, s, username), args)
        return {t.key: {x.key: x.values for x in t.series} for t in found.charts}


def test_trend_figures_per_month_for_a_known_world(small_world) -> None:  # type: ignore[no-untyped-def]
    cole = _figures(small_world, "com.cole", months="3")
    # three months, oldest first: two months ago, last month, this month
    assert cole["activity"] == {"records": (0, 1, 3), "contacts": (0, 1, 2)}  # no SECRET record
    hughes = _figures(small_world, "honsu.hughes", months="3")
    assert hughes["activity"] == {"records": (0, 1, 4), "contacts": (0, 1, 3)}  # corridor: SECRET
    assert hughes["reviews"] == {"completed": (1, 0, 1), "overdue": (0, 1, 0)}
    # the 14-month-old record is counted once the period reaches it
    assert sum(_figures(small_world, "honsu.hughes", months="24")["activity"]["records"]) == 6
    assert _figures(small_world, "honsu.lambert", months="3")["activity"]["records"] == (0, 0, 1)


def test_unit_filter_and_national_suppression(small_world) -> None:  # type: ignore[no-untyped-def]
    with small_world.transaction() as s:
        found = trends(ctx_for(small_world, s, "pct.palmer"), {"unit": "nsd:London", "months": "3"})
        assert found.scope.national
        assert {u.value for u in found.units} >= {"nsd:North", "nsd:London", "ct:CTP London"}
        records = found.charts[0].series[0]
        assert records.values == (0, 0, 1) and records.shown[-1] == "fewer than 5"
        assert records.charted() == [0, 0, None]  # a suppressed count draws no point
    north = _figures(small_world, "honsu.lambert", unit="nsd:London", months="3")
    assert north["activity"]["records"] == (0, 0, 1)
    # hughes sees only the North: her own unit's filter narrows nothing, the CT unit the same
    assert _figures(small_world, "honsu.hughes", unit="ct:CTP North East", months="3")["activity"][
        "records"
    ] == (0, 1, 4)


@pytest.mark.parametrize(
    "args",
    [
        {"months": "5"},
        {"months": "twelve"},
        {"months": "-3"},
        {"unit": "nsd:Nowhere"},
        {"unit": "nsd:London"},  # exists, but outside the viewer's cases: answered as unknown
        {"unit": "London"},
    ],
)
def test_bad_filter_values_are_refused(small_world, args) -> None:  # type: ignore[no-untyped-def]
    with small_world.transaction() as s, pytest.raises(InvalidValue):
        trends(ctx_for(small_world, s, "honsu.hughes"), args)


def test_trends_page_filters_table_and_400(small_world) -> None:  # type: ignore[no-untyped-def]
    client = app_for(small_world).test_client()
    sign_in(client, small_world, "honsu.hughes")
    r = client.get("/reports/trends?unit=nsd%3ANorth&months=3")
    page = text(r)
    assert r.status_code == 200
    assert page.count("<svg") >= 2 and '<script type="text/javascript"' not in page
    assert 'class="govuk-select" id="unit"' in page and 'value="nsd:North" selected' in page
    assert '<option value="3" selected>' in page
    # the data table under the chart carries the same figures
    assert THIS.strftime("%B %Y") in page and 'id="table-activity"' in page
    assert "app-direct-label" in page and "Reviews overdue" in page
    for bad in ("months=7", "unit=nsd%3ALondon", "unit=%3Cscript%3E"):
        r = client.get(f"/reports/trends?{bad}")
        assert r.status_code == 400, bad
        assert "Invalid" in text(r) and "<script>" not in text(r)
    assert "/reports/trends" in text(client.get("/reports"))


def test_line_chart_has_no_script_and_other_cues_than_colour() -> None:
    svg = line_svg("T <1>", ["Jan 25", "Feb 25"], [("A <b>", [1, None]), ("B", [2, 3])])
    assert "<script" not in svg and "<style" not in svg and " style=" not in svg
    assert "&lt;b&gt;" in svg and svg.count('class="app-direct-label"') == 2
    assert "<polygon" in svg  # the second series' markers are squares, not circles
    with pytest.raises(ValueError):
        line_svg("too many", ["a"], [(str(n), [n]) for n in range(5)])
