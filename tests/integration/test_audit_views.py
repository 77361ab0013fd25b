"""Who has seen a record: every allowed read that showed it, from the indexed `audit_views`,
however many entries the case's log holds (the query once stopped at the newest 2,000)."""

from __future__ import annotations

from sqlalchemy import select

from shareplatform.audit.log import Event
from shareplatform.audit.models import AuditView
from shareplatform.domain.labels import Classification
from shareplatform.records import services as records
from tests.support.factories import case, ctx_for, record, user


def test_who_has_seen_is_complete_past_thousands_of_later_entries(platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        com = user(platform, s, "com.cole", role="COM", nsd_unit="North")
        pom = user(platform, s, "pom.page", role="POM", nsd_unit="North")
        honsu = user(platform, s, "honsu.hill", role="HONSU", vetting="DV", nsd_unit="North")
        c = case(
            platform,
            s,
            "SP-9",
            nsd_unit="North",
            team=[(com, "COM"), (pom, "POM")],
            panel=[(honsu, "HONSU")],
        )
        r = record(platform, s, c.id, com, label="OFFICIAL-SENSITIVE")
        case_id, rid = c.id, r.id
    with platform.transaction() as s:
        records.record_page(ctx_for(platform, s, "com.cole"), rid)  # a single read
    with platform.transaction() as s:
        records.timeline(ctx_for(platform, s, "pom.page"), case_id)  # a listing that shows it
    with platform.transaction() as s:  # 2,500 later entries on the same case
        for i in range(2500):
            platform.access.record(
                s,
                None,
                Event(
                    action="case.timeline",
                    object_type="case",
                    outcome="allow",
                    label=Classification.OFFICIAL,
                    object_id=str(case_id),
                    case_id=str(case_id),
                    detail={"shown": [f"other-{i}"]},
                ),
            )
    with platform.transaction() as s:
        seen = records.who_has_seen(ctx_for(platform, s, "honsu.hill"), rid)
        views = s.scalars(select(AuditView.seq).where(AuditView.object_id == str(rid))).all()
    who = {(v.who, v.outcome) for v in seen}
    assert ("com.cole", "allow") in who and ("pom.page", "allow") in who
    assert len(seen) == len(views) >= 2
