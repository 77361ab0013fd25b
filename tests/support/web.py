"""Signing in through the real forms with Flask's test client, and reading pages."""

from __future__ import annotations

import re
import time

import pyotp
from sqlalchemy import select

from shareplatform.accounts.models import User
from tests.factories import DEMO_PASSWORD, DEMO_TOTP

CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
STEP = 30


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(client, url: str, data: dict[str, object], page: str | None = None):  # type: ignore[no-untyped-def]
    """POST a form with the CSRF token from `page` (or from a GET of `url`)."""
    html = page if page is not None else client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_of(html), **data})


def fresh_code(platform, username: str, secret: str = DEMO_TOTP) -> str:  # type: ignore[no-untyped-def]
    """A code the server will accept when it is posted: the lowest unused step it still allows.

    The server accepts one step of drift either side and refuses a step already used, so up
    to three sign-ins per user fit in a 30 s window. The previous step is chosen only while
    more than 10 s of the window remain: a slow password hash before the code is posted may
    carry the clock over a boundary. When no step is left, wait for the next window.
    """
    while True:
        with platform.transaction() as session:
            last = session.scalar(select(User.totp_last_step).where(User.username == username))
        now = time.time()
        current = int(now) // STEP
        remaining = (current + 1) * STEP - now
        lowest = current - 1 if remaining > 10 else current
        step = lowest if last is None else max(lowest, last + 1)
        if step <= current + 1:
            return pyotp.TOTP(secret).at(step * STEP)
        time.sleep(remaining + 0.05)


def sign_in(client, platform, username: str, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
    """Password, then the second factor; returns the response of the page after sign-in."""
    r = post_form(client, "/sign-in", {"username": username, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    assert "/sign-in/code" in r.headers["Location"], r.headers["Location"]
    r = post_form(client, "/sign-in/code", {"code": fresh_code(platform, username)})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    return client.get(r.headers["Location"], follow_redirects=True)


def text(response) -> str:  # type: ignore[no-untyped-def]
    """A response's text: a PDF's extracted text (so a crawl checks exports for what they must
    not show), another binary body decoded leniently, anything else as served."""
    if response.content_type == "application/pdf":
        from io import BytesIO

        from pypdf import PdfReader

        pages = PdfReader(BytesIO(response.get_data())).pages
        return "\n".join(page.extract_text() for page in pages)
    if response.content_type.startswith(("text/", "application/json", "application/problem")):
        return response.get_data(as_text=True)
    return response.get_data().decode("utf-8", errors="replace")
