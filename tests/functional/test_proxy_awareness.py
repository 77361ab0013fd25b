"""Behind a reverse proxy (SHAREPLATFORM_PROXY_HOPS): the client's own address throttles sign-in,
HSTS follows the client's scheme, and cookies are Secure by default. Without a trusted proxy the
X-Forwarded-* headers are ignored: any client could send them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from shareplatform import create_app
from shareplatform.accounts.models import LoginThrottle
from tests.support.factories import PASSWORD, user
from tests.support.web import post_form, sign_in, text

THROTTLED = "too many failed sign-in attempts from your network"
FIRST, SECOND = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        user(platform, s, "com.cole", role="COM", password=PASSWORD, nsd_unit="North")
    return platform


@pytest.fixture
def make_app(app_platform) -> Iterator:  # type: ignore[no-untyped-def]
    made = []

    def build(**settings: object):  # type: ignore[no-untyped-def]
        app = create_app(replace(app_platform.config, **settings))  # type: ignore[arg-type]
        app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 3
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["shareplatform"].db.dispose()


def _from(app, address: str | None = None, proto: str | None = None):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if address:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = address
    if proto:
        client.environ_base["HTTP_X_FORWARDED_PROTO"] = proto
    return client


def _fail_sign_ins(client, times: int) -> str:  # type: ignore[no-untyped-def]
    for n in range(times):
        r = post_form(client, "/sign-in", {"username": f"nobody.{n}", "password": "nope"})
    return text(r)


def _throttle_keys(platform) -> set[str]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return set(s.scalars(select(LoginThrottle.key).where(LoginThrottle.key.like("addr:%"))))


def test_clients_behind_the_proxy_are_throttled_separately(make_app, app_platform) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PROXY_HOPS=1)
    first, second = _from(app, FIRST), _from(app, SECOND)
    _fail_sign_ins(first, 3)
    assert THROTTLED in _fail_sign_ins(first, 1)
    assert THROTTLED not in _fail_sign_ins(second, 1)  # another client is not locked out
    assert _throttle_keys(app_platform) == {f"addr:{FIRST}", f"addr:{SECOND}"}


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(make_app, app_platform) -> None:  # type: ignore[no-untyped-def]
    app = make_app()  # PROXY_HOPS=0
    _fail_sign_ins(_from(app, FIRST), 3)
    assert THROTTLED in _fail_sign_ins(_from(app, SECOND), 1)  # one address: the connection's
    assert _throttle_keys(app_platform) == {"addr:127.0.0.1"}


def test_hsts_follows_the_scheme_the_proxy_saw(make_app) -> None:  # type: ignore[no-untyped-def]
    proxied = make_app(PROXY_HOPS=1)
    assert "Strict-Transport-Security" in _from(proxied, FIRST, "https").get("/sign-in").headers
    assert "Strict-Transport-Security" not in _from(proxied, FIRST, "http").get("/sign-in").headers
    direct = make_app()
    assert "Strict-Transport-Security" not in _from(direct, FIRST, "https").get("/sign-in").headers


def _cookie_is_secure(response, name: str) -> bool:  # type: ignore[no-untyped-def]
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    return "; Secure" in header


def test_cookies_are_secure_by_default(make_app, app_platform) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PROXY_HOPS=1)
    client = _from(app, FIRST)
    assert _cookie_is_secure(client.get("/sign-in"), "sp_visitor")
    r = post_form(client, "/sign-in", {"username": "com.cole", "password": PASSWORD})
    assert r.status_code == 302
    assert _cookie_is_secure(r, "sp_session")
    sign_in(_from(app, SECOND), app_platform, "com.cole", PASSWORD)  # the Secure cookie works
    # not proxied, reached by name over http: still Secure
    direct = make_app().test_client()
    assert _cookie_is_secure(direct.get("/sign-in", base_url="http://sp.example"), "sp_visitor")


def test_only_loopback_development_or_an_explicit_setting_drops_secure(make_app) -> None:  # type: ignore[no-untyped-def]
    # a developer's own machine: http between loopback addresses, outside production
    assert not _cookie_is_secure(make_app().test_client().get("/sign-in"), "sp_visitor")
    assert _cookie_is_secure(
        make_app(SESSION_COOKIE_SECURE=True).test_client().get("/sign-in"), "sp_visitor"
    )
    off = make_app(PROXY_HOPS=1, SESSION_COOKIE_SECURE=False)
    assert not _cookie_is_secure(_from(off, FIRST).get("/sign-in"), "sp_visitor")
