"""Logs carry ids, never classified content: a corridor user reads SECRET and OFFICIAL-SENSITIVE
records (case page, record pages, a search for their words) with every logger at DEBUG, and no
log record holds any of their titles or bodies."""

from __future__ import annotations

import logging

from sqlalchemy import select

from shareplatform.accounts.models import User
from shareplatform.cases.models import Case
from tests.factories import app_for
from tests.functional.test_web_pages import record_ids
from tests.security.test_crawl import crawl
from tests.support import factories
from tests.support.web import sign_in, text

READER = "honsu.hughes"  # DV vetted, in the sterile corridor, on the panel of SP-1001


def _make_records(seeded) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Two records on SP-1001 with words found nowhere else; returns the case id and the words."""
    words = []
    with seeded.transaction() as session:
        case = session.scalar(select(Case).where(Case.reference == "SP-1001"))
        author = session.scalar(select(User).where(User.username == READER))
        assert case is not None and author is not None
        for label, n in (("SECRET", 1), ("OFFICIAL-SENSITIVE", 2)):
            title = f"Zanzibarquill{n} meeting note"
            body = f"Quorvantide{n} was seen near the Plumbarrow{n} depot."
            factories.record(
                seeded,
                session,
                case.id,
                author,
                label=label,
                title=title,
                body=body,
            )
            words += [title, body, f"Zanzibarquill{n}", f"Quorvantide{n}", f"Plumbarrow{n}"]
        return str(case.id), words


def test_no_record_title_or_body_reaches_any_log(seeded, caplog) -> None:  # type: ignore[no-untyped-def]
    case_id, words = _make_records(seeded)
    client = app_for(seeded).test_client()
    caplog.set_level(logging.DEBUG)
    sign_in(client, seeded, READER)
    case_page = text(client.get(f"/cases/{case_id}"))
    assert all(w in case_page for w in ("Zanzibarquill1", "Zanzibarquill2")), "not shown"
    for record_id in record_ids(case_page):
        assert client.get(f"/records/{record_id}").status_code == 200
    crawl(client, f"/cases/{case_id}")
    for word in ("Zanzibarquill1", "Quorvantide2"):
        client.get("/search", query_string={"q": word})
    assert caplog.records, "nothing was logged: the test would prove nothing"
    logged = [
        (r.name, r.getMessage() + (caplog.text if r.exc_info else "")) for r in caplog.records
    ]
    leaks = [(name, w) for name, line in logged for w in words if w in line]
    assert leaks == []
    assert words[0] not in caplog.text
