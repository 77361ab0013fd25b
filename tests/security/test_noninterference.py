"""Non-interference: for users below SECRET, adding SECRET records (any type, agency, caveats,
date) on their own cases changes nothing they can observe: caseload, search, timeline, counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shareplatform.cases.services import caseload, search_nominals
from shareplatform.domain.cases import RecordType
from shareplatform.records.services import count_visible, timeline
from tests.factories import ctx_for
from tests.security import builders

OBSERVERS = (
    "ni.com.sc",
    "ni.com.bpss",
    "ni.keyworker",
    "ni.mappa",
)  # frontline and specialist, none in the corridor
TODAY = date.today()


@pytest.fixture(scope="module")
def ni(module_platform):  # type: ignore[no-untyped-def]
    p = module_platform
    with p.transaction() as s:
        ids = {
            "ni.com.sc": builders.user(s, "ni.com.sc", "COM", "SC", nsd_unit="North"),
            "ni.com.bpss": builders.user(s, "ni.com.bpss", "COM", "BPSS", nsd_unit="North"),
            "ni.keyworker": builders.user(s, "ni.keyworker", "KEYWORKER", "SC"),
            "ni.mappa": builders.user(s, "ni.mappa", "MAPPA_ADMIN", "SC", nsd_unit="North"),
            "ni.honsu": builders.user(s, "ni.honsu", "HONSU", "SC", nsd_unit="North"),
        }
        cases = [
            builders.case(
                p,
                s,
                f"NI-{n}",
                nsd_unit="North",
                ct_unit="CTP North East",
                given="Imran",
                family="Noor" if n else "Shared",
            )
            for n in range(2)
        ]
        rows = []
        for c in cases:
            for name in OBSERVERS[:3]:
                rows.append(
                    {
                        "case_id": c.id,
                        "user_id": ids[name],
                        "capacity": "COM",
                        "start_date": TODAY - timedelta(days=60),
                    }
                )
            rows.append(
                {
                    "case_id": c.id,
                    "user_id": ids["ni.mappa"],
                    "capacity": "MAPPA_ADMIN",
                    "panel": True,
                    "start_date": TODAY - timedelta(days=60),
                }
            )
        builders.members(s, rows)
        specs = []
        for c in cases:
            for n, (rtype, label, caveats, agency) in enumerate(
                [
                    ("CONTACT_OFFICE", "OFFICIAL", "", "NSD"),
                    ("ASSESSMENT_ERG", "OFFICIAL-SENSITIVE", "", "NSD"),
                    ("CONTACT_HOME_VISIT", "OFFICIAL-SENSITIVE", "ORCON", "CTNM"),
                    ("MINUTES", "SECRET", "", "NSD"),
                    ("ENQUIRY_DOMESTIC_ABUSE", "OFFICIAL-SENSITIVE", "PERSONAL", "PRISON"),
                ]
            ):
                specs.append(
                    builders.Spec(
                        c.id,
                        rtype,
                        label,
                        caveats,
                        agency,
                        TODAY - timedelta(days=3 * n + 1),
                        f"base {n}",
                        f"base body {n}",
                    )
                )
        builders.records(p, s, ids["ni.honsu"], specs)
    return p, ids["ni.honsu"], [c.id for c in cases]


def _observe(p, session, case_ids):  # type: ignore[no-untyped-def]
    out = {}
    for name in OBSERVERS:
        ctx = ctx_for(p, session, name)
        out[name] = (
            caseload(ctx),
            search_nominals(ctx, "Imran Noor"),
            search_nominals(ctx, "Shared"),
            [timeline(ctx, cid) for cid in case_ids],
            [timeline(ctx, cid, record_type="MINUTES") for cid in case_ids],
            [count_visible(ctx, cid) for cid in case_ids],
        )
    return out


secret_records = st.lists(
    st.tuples(
        st.integers(0, 1),  # which case
        st.sampled_from([t.value for t in RecordType]),
        st.sampled_from(["NSD", "PRISON", "CTNM", "JEXU"]),
        st.sets(st.sampled_from(["ORCON", "PERSONAL", "UK EYES ONLY"])),
        st.integers(0, 800),  # days ago (collides with the base records' dates at times)
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(extra=secret_records)
def test_secret_records_do_not_interfere(ni, extra) -> None:  # type: ignore[no-untyped-def]
    p, author, case_ids = ni
    session = p.db.sessions()
    try:
        session.begin()
        before = _observe(p, session, case_ids)
        specs = [
            builders.Spec(
                case_ids[k],
                rtype,
                "SECRET",
                ",".join(sorted(cav)),
                agency,
                TODAY - timedelta(days=days),
                "SECRET title",
                "SECRET-ONLY-TEXT body",
            )
            for k, rtype, agency, cav, days in extra
        ]
        builders.records(p, session, author, specs)
        session.flush()
        after = _observe(p, session, case_ids)
        assert after == before
        # and the corridor does see them: the records really are there
        honsu = ctx_for(p, session, "ni.honsu")
        own = sum(1 for s in specs if "ORCON" not in s.caveats or s.agency == "NSD")
        assert count_visible(honsu, case_ids[0]) + count_visible(honsu, case_ids[1]) == 2 * 4 + own
    finally:
        session.rollback()
        session.close()
