"""Break-glass: written reason, time-limited, audited, OFFICIAL-SENSITIVE at most, never another
agency's ORCON, listed for review by the managers overseeing the case's unit."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import Uuid, bindparam, func, select, text

from shareplatform.audit.models import AuditEntry
from shareplatform.break_glass.models import BreakGlass
from shareplatform.break_glass.services import mark_reviewed, pending_reviews, take_break_glass
from shareplatform.domain.errors import InvalidValue, NotFound, NotPermitted
from shareplatform.records.services import RecordView, timeline
from tests.factories import ctx_for
from tests.security import builders

REASON = "Nominal reported missing overnight; the duty officer needs the risk plan now."


@pytest.fixture
def bg(platform):  # type: ignore[no-untyped-def]
    today = date.today()
    with platform.transaction() as s:
        ids = {
            "honsu.north": builders.user(s, "honsu.north", "HONSU", "SC", nsd_unit="North"),
            "honsu.london": builders.user(s, "honsu.london", "HONSU", "SC", nsd_unit="London"),
            "lro.ne": builders.user(s, "lro.ne", "LRO", "DV", ct_unit="CTP North East"),
            "com.team": builders.user(s, "com.team", "COM", "BPSS", nsd_unit="North"),
            "com.duty": builders.user(s, "com.duty", "COM", "SC", nsd_unit="North"),
            "auditor": builders.user(s, "auditor", "AUDITOR", "SC"),
        }
        c = builders.case(platform, s, "BG-1", nsd_unit="North", ct_unit="CTP North East")
        builders.members(
            s,
            [
                {
                    "case_id": c.id,
                    "user_id": ids["com.team"],
                    "capacity": "COM",
                    "start_date": today - timedelta(days=20),
                }
            ],
        )
        specs = [
            builders.Spec(
                c.id,
                "CONTACT_OFFICE",
                "OFFICIAL",
                "",
                "NSD",
                today - timedelta(days=1),
                "o",
                "official",
            ),
            builders.Spec(
                c.id,
                "PLAN_RISK_MANAGEMENT",
                "OFFICIAL-SENSITIVE",
                "",
                "NSD",
                today - timedelta(days=2),
                "plan",
                "risk plan",
            ),
            builders.Spec(
                c.id,
                "CONTACT_HOME_VISIT",
                "OFFICIAL-SENSITIVE",
                "ORCON",
                "CTNM",
                today - timedelta(days=3),
                "police",
                "police ORCON",
            ),
            builders.Spec(
                c.id,
                "MINUTES",
                "SECRET",
                "",
                "NSD",
                today - timedelta(days=4),
                "closed",
                "SECRET-ONLY-TEXT",
            ),
        ]
        rids = builders.records(platform, s, ids["honsu.north"], specs)
    return {"case": c.id, "official": rids[0], "plan": rids[1], "orcon": rids[2], "secret": rids[3]}


def _grants(platform) -> int:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return s.scalar(select(func.count()).select_from(BreakGlass)) or 0


def _take(platform, username: str, case_id, reason: str = REASON, hours: int = 4):  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return take_break_glass(ctx_for(platform, s, username), case_id, reason, hours).id


def _shown(platform, username: str, case_id) -> set:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return {
            i.id
            for i in timeline(ctx_for(platform, s, username), case_id).items
            if isinstance(i, RecordView)
        }


@pytest.mark.parametrize("reason", ["", "   ", "urgent"])
def test_reason_required(platform, bg, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue, match="reason"):
        _take(platform, "com.duty", bg["case"], reason)
    with pytest.raises(InvalidValue, match="hours"):
        _take(platform, "com.duty", bg["case"], REASON, hours=72)
    assert _grants(platform) == 0


def test_break_glass_gives_official_sensitive_only(platform, bg) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as s, pytest.raises(NotFound):
        timeline(ctx_for(platform, s, "com.duty"), bg["case"])  # before: nothing
    grant_id = _take(platform, "com.duty", bg["case"])
    assert _shown(platform, "com.duty", bg["case"]) == {
        bg["official"],
        bg["plan"],
    }  # no ORCON, no SECRET
    # a corridor manager from another unit, SC-cleared: still no SECRET, no other agency's ORCON
    _take(platform, "honsu.london", bg["case"])
    assert _shown(platform, "honsu.london", bg["case"]) == {bg["official"], bg["plan"]}
    with platform.transaction() as s:
        entry = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "break_glass.take")
            .order_by(AuditEntry.seq)
        ).first()
        assert entry is not None and entry.actor == "com.duty"
        assert json.loads(entry.detail)["reason"] == REASON
        assert entry.case_id == str(bg["case"]) and entry.outcome == "allow"
        grant = s.get(BreakGlass, grant_id)
        assert grant is not None and grant.expires_at - grant.started_at == timedelta(hours=4)


def test_expired_break_glass_gives_nothing(platform, bg) -> None:  # type: ignore[no-untyped-def]
    grant_id = _take(platform, "com.duty", bg["case"], hours=1)
    with platform.db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE break_glass SET started_at = :p, expires_at = :p WHERE id = :id"
            ).bindparams(
                bindparam("id", type_=Uuid()),
                bindparam("p", type_=BreakGlass.__table__.c.expires_at.type),
            ),
            {
                "id": grant_id,
                "p": __import__("shareplatform.db", fromlist=["utcnow"]).utcnow()
                - timedelta(hours=2),
            },
        )
    with platform.transaction() as s, pytest.raises(NotFound):
        timeline(ctx_for(platform, s, "com.duty"), bg["case"])


def test_who_may_not_break_glass(platform, bg) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotPermitted, match="already have access"):
        _take(platform, "com.team", bg["case"])
    with pytest.raises(NotPermitted):
        _take(platform, "auditor", bg["case"])  # platform roles read no case content
    with pytest.raises(NotFound):
        _take(platform, "com.duty", "8a1d5c3e-0000-4000-8000-000000000000")
    assert _grants(platform) == 0


def test_pending_reviews_for_the_units_managers(platform, bg) -> None:  # type: ignore[no-untyped-def]
    first = _take(platform, "com.duty", bg["case"])
    _take(platform, "honsu.london", bg["case"])

    def pending(username: str) -> list[str]:
        with platform.transaction() as s:
            return [p.who for p in pending_reviews(ctx_for(platform, s, username))]

    assert pending("honsu.north") == ["com.duty", "honsu.london"]  # HoNSU of the case's NSD unit
    assert pending("lro.ne") == ["com.duty", "honsu.london"]  # LRO of the case's CT unit
    assert pending("honsu.london") == []  # another unit's HoNSU
    assert pending("com.team") == []
    with platform.transaction() as s:
        mark_reviewed(ctx_for(platform, s, "honsu.north"), first)
    assert pending("lro.ne") == ["honsu.london"]
    with platform.transaction() as s, pytest.raises(NotFound):
        mark_reviewed(ctx_for(platform, s, "honsu.london"), first)  # not theirs to review
