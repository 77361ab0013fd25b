"""Caseload, search, the case page and its timeline, record pages, permissions and error pages."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from shareplatform.cases.models import Case
from shareplatform.web.permissions import permission_of, requires
from tests.security.demo_support import secret_items, shows_secret
from tests.support.web import sign_in, text

WITHHELD = "Further information is held"


def case_id(seeded, reference: str) -> str:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        return str(s.scalar(select(Case.id).where(Case.reference == reference)))


def record_ids(html: str) -> list[str]:
    return re.findall(r'id="record-([0-9a-f-]{36})"', html)


def test_every_route_declares_a_permission(app) -> None:  # type: ignore[no-untyped-def]
    missing = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if permission_of(app.view_functions[rule.endpoint]) is None
    ]
    assert missing == []


def test_a_route_declares_a_typed_permission_not_a_string() -> None:
    import pytest

    from shareplatform.access.vocabulary import Permission

    with pytest.raises(TypeError):
        requires("case:reed")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        Permission.CASE_REED  # type: ignore[attr-defined]  # noqa: B018


def test_caseload_lists_my_cases_with_phase_level_and_next_date(client, seeded) -> None:  # type: ignore[no-untyped-def]
    html = text(sign_in(client, seeded, "pom.quinn"))
    assert "My caseload" in html
    assert "SP-1004" in html and "SP-1001" not in html  # pom.quinn holds every other custody case
    assert "Level " in html and "MAPPA review:" in html
    assert 'data-page-label="OFFICIAL-SENSITIVE"' in html


def test_search_by_identifier_and_name_within_what_i_may_see(client, app, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    r = client.get("/search", query_string={"q": "2000/0100000A"})  # SP-1001's PNC ID
    assert r.status_code == 200 and "SP-1001" in text(r) and "Adam Abbott" in text(r)
    r = client.get("/search", query_string={"q": "Adam Abbott"})
    assert "SP-1001" in text(r)
    assert (  # part of a name finds the person (shareplatform/cases/search.py)
        "adam"
        in text(client.get("/search", query_string={"q": "Ada"})).lower().split("results for")[1]
    )
    assert client.get("/search", query_string={"q": ""}).status_code == 400
    other = app.test_client()
    sign_in(other, seeded, "pom.quinn")
    r = other.get("/search", query_string={"q": "2000/0100000A"})
    assert "0 results" in text(r) and "SP-1001" not in text(r)


def test_case_page_shows_details_team_levels_and_one_timeline(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    r = client.get(f"/cases/{case_id(seeded, 'SP-1001')}")
    html = text(r)
    assert r.status_code == 200
    assert "Adam Abbott" in html and "PNC ID" in html
    assert "Team" in html and "Nadia Nash" in html
    assert "MAPPA level history" in html and "panel agreed step-down to Level 2" in html
    for agency in (
        "HM Prison Service",
        "Probation Service National Security Division",
        "Counter Terrorism Nominal Management (police)",
    ):
        assert agency in html
    assert len(record_ids(html)) >= 5
    assert 'data-label="OFFICIAL-SENSITIVE"' in html and 'data-label="OFFICIAL"' in html
    assert html.count('data-page-label="OFFICIAL-SENSITIVE"') == 2  # top and bottom


def test_timeline_filters_by_type_agency_and_date(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")  # SP-1005: a community case, so it has joint visits
    url = f"/cases/{case_id(seeded, 'SP-1005')}"
    html = text(client.get(url, query_string={"type": "CONTACT_JOINT_VISIT"}))
    assert len(record_ids(html)) == 1 and "Joint visit" in html
    html = text(client.get(url, query_string={"agency": "CTNM"}))
    metas = re.findall(r'app-record__meta">(.*?)</p>', html, re.S)
    # the police wrote the record or attended it (a joint visit)
    assert metas and all("Counter Terrorism" in m for m in metas if "&middot;" in m)
    html = text(
        client.get(url, query_string={"from-day": "1", "from-month": "1", "from-year": "2999"})
    )
    assert record_ids(html) == [] and "There are no records matching these filters" in html
    r = client.get(url, query_string={"from-day": "31", "from-month": "2", "from-year": "2024"})
    assert r.status_code == 400 and "must be a real date" in text(r)


def test_pom_on_another_case_gets_the_same_404_as_for_no_case(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "pom.quinn")
    theirs = client.get(f"/cases/{case_id(seeded, 'SP-1001')}")
    absent = client.get(f"/cases/{uuid.uuid4()}")
    assert theirs.status_code == absent.status_code == 404
    strip = lambda r: re.sub(r'nonce="[^"]+"|value="[^"]+"', "", text(r))  # noqa: E731
    assert strip(theirs) == strip(absent)
    assert "Adam Abbott" not in text(theirs)


def test_com_on_the_team_sees_withheld_markers_never_secret(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")  # SC vetted, but frontline: outside the corridor
    secret = secret_items(seeded)
    for ref in ("SP-1001", "SP-1003", "SP-1005"):
        html = text(client.get(f"/cases/{case_id(seeded, ref)}"))
        assert shows_secret(html, secret, ids=True) == []
        assert 'data-label="SECRET"' not in html and 'data-page-label="SECRET"' not in html
    html = text(client.get(f"/cases/{case_id(seeded, 'SP-1001')}"))
    assert WITHHELD in html


def test_corridor_manager_sees_secret_with_its_label(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "honsu.hughes")
    html = text(client.get(f"/cases/{case_id(seeded, 'SP-1001')}"))
    shown = shows_secret(html, [i for i in secret_items(seeded) if i.case_reference == "SP-1001"])
    assert any(i.kind == "record" for i in shown)
    assert 'data-label="SECRET"' in html and html.count('data-page-label="SECRET"') == 2


def test_record_page_and_who_has_seen_it(client, app, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    html = text(client.get(f"/cases/{case_id(seeded, 'SP-1001')}"))
    rid = record_ids(html)[0]
    page = client.get(f"/records/{rid}")
    assert page.status_code == 200 and f'id="record-{rid}"' in text(page)
    assert "Who has seen this record" not in text(page)  # frontline: no link
    assert client.get(f"/records/{rid}/seen").status_code == 403
    manager = app.test_client()
    sign_in(manager, seeded, "honsu.hughes")
    page = manager.get(f"/records/{rid}")
    assert "Who has seen this record" in text(page)
    seen = manager.get(f"/records/{rid}/seen")
    assert seen.status_code == 200 and "com.cole" in text(seen)


def test_platform_roles_are_refused_case_pages_with_an_explanation(client, seeded) -> None:  # type: ignore[no-untyped-def]
    home = sign_in(client, seeded, "policy.admin")
    assert home.status_code == 200 and "does not hold cases" in text(home)
    r = client.get("/cases")
    assert r.status_code == 403
    assert "administrator and auditor roles do not read case content" in text(r).lower()
    # a case page names an object the role can never read: it answers as an unknown id does
    # (shareplatform/web/authorise.py), the list page above with the explanation
    case = client.get(f"/cases/{case_id(seeded, 'SP-1001')}")
    unknown = client.get("/cases/00000000-0000-4000-8000-000000000000")
    assert case.status_code == unknown.status_code == 404


def test_unexpected_errors_show_a_500_page_without_a_trace(app, client, seeded) -> None:  # type: ignore[no-untyped-def]
    from shareplatform.web.permissions import public

    @public
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("internal detail that must not leak")

    app.add_url_rule("/boom-test", "boom_test", boom)
    r = client.get("/boom-test")
    assert r.status_code == 500
    assert "Sorry, there is a problem with the service" in text(r)
    assert "internal detail" not in text(r) and "Traceback" not in text(r)


def test_signed_out_visitors_are_sent_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/cases")
    assert r.status_code == 302 and r.headers["Location"].startswith("/sign-in?next=/cases")
