"""Withheld items: a marker without label, title, author or content where policy allows one;
no trace at all for SECRET below the corridor; identical answers for absent and not allowed."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import select

from shareplatform.cases.services import case_view, get_case
from shareplatform.domain.errors import NotFound, NotPermitted
from shareplatform.records.models import Record
from shareplatform.records.services import Notice, RecordView, count_visible, record_page, timeline
from tests.security.demo_support import case_by_ref, reading


@pytest.fixture(params=["seeded", "seeded_pg"])
def demo(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return request.getfixturevalue(request.param)


def _records(ctx, case) -> list[Record]:  # type: ignore[no-untyped-def]
    return list(ctx.session.scalars(select(Record).where(Record.case_id == case.id)))


def test_orcon_of_another_agency_shows_a_bare_marker(demo) -> None:  # type: ignore[no-untyped-def]
    with reading(demo, "pom.parker") as ctx:
        case = case_by_ref(ctx, "SP-1001")
        rows = _records(ctx, case)
        foreign = [
            r
            for r in rows
            if "ORCON" in r.caveats
            and r.originating_agency != "PRISON"
            and r.classification != "SECRET"
        ]
        assert foreign, "the demo data holds ORCON records of other agencies"
        items = timeline(ctx, case.id).items
        notices = [i for i in items if isinstance(i, Notice)]
        assert sorted(n.occurred_on for n in notices) == sorted(r.occurred_on for r in foreign)
        # a notice carries nothing of the record: its date, a fixed text, and whether it is
        # withheld for failing its integrity check (not here)
        assert {f.name for f in dataclasses.fields(Notice)} == {
            "occurred_on",
            "text",
            "integrity_failure",
        }
        assert not any(n.integrity_failure for n in notices)
        for n in notices:
            assert "OFFICIAL" not in n.text and "ORCON" not in n.text
        shown_ids = {i.id for i in items if isinstance(i, RecordView)}
        assert not shown_ids & {r.id for r in foreign}
        with pytest.raises(NotPermitted) as info:
            record_page(ctx, foreign[0].id)
        assert "Further information is held" in str(info.value)


def test_keyworker_sees_markers_for_assessments(demo) -> None:  # type: ignore[no-untyped-def]
    with reading(demo, "keyworker.khan") as ctx:
        case = case_by_ref(ctx, "SP-1001")
        items = timeline(ctx, case.id).items
        views = [i for i in items if isinstance(i, RecordView)]
        assert views and not any(
            v.record_type.value.startswith(("ASSESSMENT_", "ENQUIRY_")) for v in views
        )
        assert any(isinstance(i, Notice) for i in items)


@pytest.mark.parametrize(
    "username", ["com.cole", "pom.parker", "nm.nash", "keyworker.khan", "mappa.morgan"]
)
def test_secret_leaves_no_trace_below_the_corridor(demo, username: str) -> None:  # type: ignore[no-untyped-def]
    with reading(demo, username) as ctx:
        case = case_by_ref(ctx, "SP-1001")
        rows = _records(ctx, case)
        secret = [r for r in rows if r.classification == "SECRET"]
        assert secret
        tl = timeline(ctx, case.id)
        marked_dates = {i.occurred_on for i in tl.items if isinstance(i, Notice)}
        other_dates = {r.occurred_on for r in rows if r.classification != "SECRET"}
        for r in secret:
            assert r.id not in {i.id for i in tl.items if isinstance(i, RecordView)}
            assert (
                r.occurred_on not in marked_dates - other_dates
            )  # no marker that could only be a SECRET one
        assert "SECRET" not in repr(tl.items)
        assert tl.highest.marking != "SECRET"
        assert count_visible(ctx, case.id) == tl.total_visible
        absent = _message(lambda: record_page(ctx, uuid.uuid4()))
        for r in secret:
            assert (
                _message(lambda r=r: record_page(ctx, r.id)) == absent
            )  # same as a record that never existed


def test_secret_markers_never_counted(demo) -> None:  # type: ignore[no-untyped-def]
    """com.cole's visible items are exactly the readable records plus non-SECRET markers."""
    with reading(demo, "com.cole") as ctx:
        case = case_by_ref(ctx, "SP-1001")
        rows = _records(ctx, case)
        tl = timeline(ctx, case.id)
        notices = [i for i in tl.items if isinstance(i, Notice)]
        noticeable = [
            r
            for r in rows
            if r.classification != "SECRET"
            and "ORCON" in r.caveats
            and r.originating_agency != "NSD"
        ]
        assert len(notices) == len(noticeable)


def _message(fn) -> tuple[type, str]:  # type: ignore[no-untyped-def]
    try:
        fn()
    except (NotFound, NotPermitted) as exc:
        return type(exc), str(exc)
    raise AssertionError("expected a refusal")


def test_absent_and_not_allowed_cases_answer_alike(demo) -> None:  # type: ignore[no-untyped-def]
    with reading(demo, "honsu.lambert") as ctx:  # London HoNSU; SP-1001 is a North case
        north = case_by_ref(ctx, "SP-1001")
        absent = _message(lambda: get_case(ctx, uuid.uuid4()))
        assert _message(lambda: get_case(ctx, north.id)) == absent
        assert _message(lambda: case_view(ctx, north.id)) == absent
        assert _message(lambda: timeline(ctx, north.id)) == absent
        assert _message(lambda: get_case(ctx, "not-a-uuid")) == absent
        record = _records(ctx, north)[0]
        assert _message(lambda: record_page(ctx, record.id)) == _message(
            lambda: record_page(ctx, uuid.uuid4())
        )
    with reading(demo, "auditor.adams") as ctx:
        north = case_by_ref(ctx, "SP-1001")
        assert _message(lambda: case_view(ctx, north.id)) == _message(
            lambda: case_view(ctx, uuid.uuid4())
        )
