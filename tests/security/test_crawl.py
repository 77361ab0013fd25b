"""Crawl the web journey as every demo user: follow every GET link and check what each page shows.

Users outside the sterile corridor must never see SECRET text (the seed's SECRET objects) nor
anything marked `data-label="SECRET"`, whatever their vetting; no page may fail for anyone.
"""

from __future__ import annotations

import re
from collections import deque

import pytest

from shareplatform.demo.seed import DEMO_USERS
from shareplatform.domain.agencies import Role
from tests.factories import app_for
from tests.security.demo_support import secret_items, shows_secret
from tests.support.web import sign_in, text

LINK = re.compile(r'href="(/[^"#]*)')
SKIP = ("/assets/", "/static/", "/sign-in", "/sign-out")
BUDGET = 60  # pages per user: every non-record page first, then records

USERS = [(u, role) for u, _, role, *_ in DEMO_USERS if u != "com.expired"]


def _priority(path: str) -> int:
    return 1 if path.startswith("/records/") else 0


def crawl(client, start: str) -> dict[str, tuple[int, str]]:  # type: ignore[no-untyped-def]
    seen: dict[str, tuple[int, str]] = {}
    queues: tuple[deque[str], deque[str]] = (
        deque([start, "/", "/cases", "/search", "/account"]),
        deque(),
    )
    queued = set(queues[0])
    while (queues[0] or queues[1]) and len(seen) < BUDGET:
        path = (queues[0] or queues[1]).popleft()
        r = client.get(path)
        body = text(r)
        seen[path] = (r.status_code, body)
        if not r.content_type.startswith("text/html"):
            continue  # exports (CSV, PDF...) are checked for content below but hold no links
        for link in LINK.findall(body):
            link = link.replace("&amp;", "&")
            if link.startswith(SKIP) or link in queued:
                continue
            queued.add(link)
            queues[_priority(link)].append(link)
    return seen


@pytest.mark.parametrize(("username", "role"), USERS, ids=[u for u, _ in USERS])
def test_crawl_as_each_user(seeded, username: str, role: str) -> None:  # type: ignore[no-untyped-def]
    client = app_for(seeded).test_client()
    landing = sign_in(client, seeded, username)
    pages = crawl(client, landing.request.path)
    assert pages, "nothing crawled"
    failures = {p: s for p, (s, _) in pages.items() if s >= 500}
    assert failures == {}
    in_corridor = Role.parse(role).in_corridor
    secret = secret_items(seeded)
    for path, (status, body) in pages.items():
        assert "Traceback" not in body, path
        if not in_corridor:
            assert not shows_secret(body, secret), f"{username} saw SECRET text on {path}"
            assert 'data-label="SECRET"' not in body, f"{username} saw a SECRET item on {path}"
            assert 'data-page-label="SECRET"' not in body, f"{username} got a SECRET page at {path}"
        if status == 200 and body.lstrip().startswith("<!DOCTYPE html>"):
            assert body.count("data-page-label=") == 2, (
                f"{path} lacks its two classification banners"
            )
    if role in ("COM", "POM", "NOMINAL_MANAGER"):
        assert any(p.startswith("/cases/") for p in pages), f"{username} reached no case page"
