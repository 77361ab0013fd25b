"""Two application nodes behind nginx terminating TLS, on loopback: the nodes must agree.

PostgreSQL (the shared test server), two `gunicorn wsgi:app` nodes on their own ports with the
same database and keys and SHAREPLATFORM_PROXY_HOPS=1, and nginx in front with a throwaway
self-signed certificate, running the proxy block of deploy/nginx.conf as written. Each test checks
one thing a multi-node deployment depends on: the server-side session, the policy, the KEK version
for new writes and the sign-in throttle are shared through the database; HSTS and Secure cookies
follow the proxy's scheme; and a node killed outright is skipped by nginx.

Deadlines (2 s) bound correctness only: they are not speed measurements.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from shareplatform.access import policy_files
from shareplatform.accounts import tokens
from shareplatform.crypto.models import DataKey
from shareplatform.platform import Platform
from shareplatform.policy_admin.services import record_import
from tests.support import nginx
from tests.support.factories import PASSWORD, case, fresh_platform, make_config, record, user
from tests.support.processes import ROOT, Gunicorn, flask, free_port, instance_env
from tests.support.web import CSRF, fresh_code

pytestmark = pytest.mark.slow

DEADLINE = 2.0  # seconds for a change made on one node to hold on the other
HONSU, COM = "topo.honsu", "topo.com"
SESSION_COOKIE = "sp_session"
DEPLOY_CONF = ROOT / "deploy" / "nginx.conf"
PROXY_BEGIN, PROXY_END = "# -- proxy to the app: begin", "# -- proxy to the app: end"


# -- the certificate and the proxy --------------------------------------------------------------
def self_signed(folder: Path) -> tuple[Path, Path]:
    """A one-day certificate for 127.0.0.1 and its key, both in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shareplatform topology test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def deploy_proxy_block() -> str:
    """The proxy directives of deploy/nginx.conf, with one change: production listens on 443, so
    the browser's Host carries no port, but here nginx listens on a free port, which the host the
    app compares with each form's Referer must include."""
    text = DEPLOY_CONF.read_text()
    block = text[text.index(PROXY_BEGIN) : text.index(PROXY_END)]
    production = "proxy_set_header X-Forwarded-Host $host;"
    assert production in block, "deploy/nginx.conf no longer sets X-Forwarded-Host to $host"
    return block.replace(production, "proxy_set_header X-Forwarded-Host $host:$server_port;")


def proxy_config(port: int, nodes: list[int], cert: Path, key: Path) -> str:
    servers = "\n".join(
        f"        server 127.0.0.1:{node} max_fails=1 fail_timeout=10s;" for node in nodes
    )
    return f"""
    upstream shareplatform {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            {deploy_proxy_block()}
            # for the tests only: which node answered (never in production: internal addresses)
            add_header X-Upstream $upstream_addr always;
        }}
    }}
"""


# -- the world ----------------------------------------------------------------------------------
@dataclass
class Topology:
    proxy_url: str
    cert: Path
    nodes: list[Gunicorn]
    env: dict[str, str]
    platform: Platform  # the test's own view of the same database and keys
    case_id: str
    office_contact_id: str
    honsu_token: str
    com_token: str
    tmp: Path

    def node_for(self, upstream: str) -> Gunicorn:
        """The node an X-Upstream value names (the last one tried, when nginx moved on)."""
        port = int(upstream.rsplit(",", 1)[-1].strip().rsplit(":", 1)[1])
        return next(n for n in self.nodes if n.port == port)

    def other(self, node: Gunicorn) -> Gunicorn:
        return next(n for n in self.nodes if n is not node)


def _world(platform: Platform) -> tuple[str, str, str, str]:
    with platform.transaction() as s:
        honsu = user(platform, s, HONSU, role="HONSU", nsd_unit="North", password=PASSWORD)
        com = user(platform, s, COM, role="COM", nsd_unit="North", password=PASSWORD)
        # a second COM, on no case: the policy change below then narrows only part of the role,
        # which one administrator may do alone (policy_admin/duties.py, whatif_flags)
        user(platform, s, "topo.com2", role="COM", nsd_unit="North")
        c = case(platform, s, "TOPO-1", team=[(com, "COM")], panel=[(honsu, "HONSU")])
        contact = record(platform, s, c.id, honsu, label="OFFICIAL-SENSITIVE")
        _, honsu_token = tokens.create_token(
            s, platform.access, honsu, "topology writer", "read-write", 1, by_system=True
        )
        _, com_token = tokens.create_token(
            s, platform.access, com, "topology reader", "read", 1, by_system=True
        )
        return str(c.id), str(contact.id), honsu_token, com_token


@pytest.fixture(scope="module")
def topology(pg_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:  # type: ignore[no-untyped-def]
    if pg_server is None:
        pytest.skip("PostgreSQL not available here")
    if not nginx.available():
        pytest.skip(f"{nginx.NGINX} not installed: run `make system-deps`")
    tmp = tmp_path_factory.mktemp("topology")
    url, keys = pg_server.create_database(f"topo_{uuid.uuid4().hex[:12]}"), tmp / "keys"
    fresh_platform(url, keys).close()
    platform = Platform(make_config(url, keys))
    platform.bind()
    case_id, contact_id, honsu_token, com_token = _world(platform)
    env = instance_env(url, keys, SHAREPLATFORM_PROXY_HOPS="1")
    nodes = [Gunicorn(env, workers=2, log=tmp / f"node-{n}.log", own_group=True) for n in "ab"]
    cert, key = self_signed(tmp)
    port = free_port()
    proxy = nginx.Nginx(
        tmp / "nginx", proxy_config(port, [n.port for n in nodes], cert, key), [port]
    )
    try:
        for node in nodes:
            node.spawn()
        for node in nodes:
            node.wait_ready()
        proxy.start()
        yield Topology(
            f"https://127.0.0.1:{port}",
            cert,
            nodes,
            env,
            platform,
            case_id,
            contact_id,
            honsu_token,
            com_token,
            tmp,
        )
    finally:
        proxy.stop()
        for node in nodes:
            node.kill()  # the database is thrown away: nothing to shut down gracefully for
        platform.close()


# -- clients ------------------------------------------------------------------------------------
class _FromAddress(HTTPAdapter):
    """Connections from a chosen loopback address: a second client on the same machine."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(topo: Topology, address: str = "127.0.0.1") -> requests.Session:
    """An https client of the proxy, connecting from `address`."""
    http = requests.Session()
    http.trust_env = False  # no proxy or CA bundle from the environment: loopback, our own CA
    http.verify = str(topo.cert)
    http.mount("https://", _FromAddress(address))
    return http


def _referer(response: requests.Response) -> str | None:
    """The Referer a browser sends when posting a form from `response`'s page, as its
    Referrer-Policy allows (same-origin: the page's full URL)."""
    policy = response.headers.get("Referrer-Policy", "strict-origin-when-cross-origin")
    if policy == "no-referrer":
        return None
    if policy in ("origin", "strict-origin"):
        return "/".join(response.url.split("/", 3)[:3]) + "/"
    return response.url


def submit(
    http: requests.Session, page: requests.Response, data: dict[str, str]
) -> requests.Response:
    """Post the form on `page` back to its own URL, as a browser would (CSRF token, Referer)."""
    match = CSRF.search(page.text)
    assert match, f"no form on {page.url}: {page.status_code} {page.text[:300]}"
    referer = _referer(page)
    headers = {"Referer": referer} if referer else {}
    return http.post(
        page.url,
        data={"csrf_token": match.group(1), **data},
        headers=headers,
        allow_redirects=False,
    )


def sign_in(topo: Topology, http: requests.Session, username: str) -> list[requests.Response]:
    """Password, then the second factor, through the proxy; returns every response on the way."""
    page = http.get(topo.proxy_url + "/sign-in")
    after_password = submit(http, page, {"username": username, "password": PASSWORD})
    assert after_password.status_code == 302, after_password.text[:1000]
    assert "/sign-in/code" in after_password.headers["Location"]
    code_page = http.get(topo.proxy_url + "/sign-in/code")
    done = submit(http, code_page, {"code": fresh_code(topo.platform, username)})
    assert done.status_code == 302, done.text[:1000]
    assert SESSION_COOKIE in done.cookies, done.headers
    return [page, after_password, code_page, done]


def until(check: Callable[[], bool], deadline: float = DEADLINE) -> float:
    """Poll `check` until it holds; fail once `deadline` seconds have passed. Returns the wait."""
    start = time.monotonic()
    while not check():
        waited = time.monotonic() - start
        assert waited < deadline, f"still not true after {waited:.1f} s"
        time.sleep(0.1)
    return time.monotonic() - start


def _api(token: str) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def _ok(result: Any) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return str(result.stdout)


# -- 1. the session ------------------------------------------------------------------------------
def test_a_session_made_through_the_proxy_works_on_the_other_node_directly(
    topology: Topology,
) -> None:
    with browser(topology) as http:
        steps = sign_in(topology, http, HONSU)
    signed_on = topology.node_for(steps[-1].headers["X-Upstream"])
    cookie = steps[-1].cookies[SESSION_COOKIE]
    # round robin: the steps of one sign-in already alternate between the nodes
    assert {topology.node_for(r.headers["X-Upstream"]).port for r in steps} == {
        n.port for n in topology.nodes
    }
    for node in (topology.other(signed_on), signed_on):
        page = requests.get(
            node.url + "/account", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, timeout=30
        )
        assert page.status_code == 200, (node.port, page.status_code, page.url)
        assert HONSU in page.text
    stranger = requests.get(
        topology.other(signed_on).url + "/account", allow_redirects=False, timeout=30
    )
    assert stranger.status_code == 302 and "/sign-in" in stranger.headers["Location"]


# -- 2. the policy --------------------------------------------------------------------------------
def test_a_policy_change_holds_on_the_other_node_within_the_deadline(topology: Topology) -> None:
    node_b = topology.nodes[1]
    reader = _api(topology.com_token)
    contact = f"{node_b.url}/api/v1/records/{topology.office_contact_id}"
    assert reader.get(contact, timeout=30).status_code == 200
    narrower = topology.tmp / "policy-narrower.csv"
    narrower.write_text(
        (ROOT / "policies" / "policy.csv").read_text()
        + "# Topology test: community offender managers no longer read office contacts.\n"
        + "p, COM, record/CONTACT_OFFICE, read, *, any, deny\n"
    )
    # `policy import`'s service, run by this process: one more node on the same database
    with topology.platform.transaction() as s:
        record_import(
            s,
            topology.platform.access,
            policy_files.read(narrower),
            str(narrower),
            operator="topology test",
            max_users_lost=topology.platform.config.POLICY_MAX_USERS_LOST,
        )
    statuses: list[int] = []

    def refused() -> bool:
        statuses.append(reader.get(contact, timeout=30).status_code)
        return statuses[-1] != 200

    waited = until(refused)
    assert statuses[-1] in (403, 404), statuses
    print(f"\npolicy change held on node B after {waited:.2f} s ({len(statuses)} polls)")


# -- 3. the KEK version for new data keys -------------------------------------------------------
def _secret_keys(platform: Platform) -> dict[str, int]:
    with platform.transaction() as s:
        rows = s.execute(select(DataKey.id, DataKey.kek_version).where(DataKey.level == "SECRET"))
        return {str(key_id): version for key_id, version in rows}


def _post_secret(topo: Topology, node: Gunicorn, http: requests.Session) -> requests.Response:
    return http.post(
        f"{node.url}/api/v1/cases/{topo.case_id}/records",
        json={
            "record_type": "MINUTES",
            "occurred_on": dt.date.today().isoformat(),
            "classification": "SECRET",
            "title": "Topology minute",
            "body": "SECRET-ONLY-TEXT: written after the rotation.",
        },
        timeout=30,
    )


def test_after_a_rotation_the_other_node_wraps_new_data_keys_under_the_new_kek(
    topology: Topology,
) -> None:
    node_b = topology.nodes[1]
    writer = _api(topology.honsu_token)
    before = _secret_keys(topology.platform)
    assert _post_secret(topology, node_b, writer).status_code == 201
    first = {k: v for k, v in _secret_keys(topology.platform).items() if k not in before}
    assert first and set(first.values()) == {1}, first
    rotated = _ok(flask(topology.env, "keys", "rotate", "--level", "SECRET"))
    assert "now v2" in rotated, rotated
    seen: list[tuple[int, set[int]]] = []

    def new_keys_under_v2() -> bool:
        known = _secret_keys(topology.platform)
        posted = _post_secret(topology, node_b, writer)
        fresh = {v for k, v in _secret_keys(topology.platform).items() if k not in known}
        seen.append((posted.status_code, fresh))
        return posted.status_code == 201 and fresh == {2}

    until(new_keys_under_v2)
    assert seen[-1] == (201, {2}), seen
    # the rotation re-wrapped every older key: nothing is left under v1
    assert set(_secret_keys(topology.platform).values()) == {2}


# -- 4. the sign-in throttle per client ------------------------------------------------------------
def _password_attempt(
    page: requests.Response, http: requests.Session, username: str, password: str
) -> str:
    """The password step posted from the sign-in `page` (its CSRF token lasts as long as the
    visitor cookie): "code" when it passed, else the page shown."""
    answer = submit(http, page, {"username": username, "password": password})
    if answer.status_code == 302 and "/sign-in/code" in answer.headers["Location"]:
        return "code"
    assert answer.status_code in (200, 400, 401, 429), (answer.status_code, answer.text[:500])
    return answer.text


def _fail_from(topo: Topology, address: str, names: list[str]) -> list[str]:
    """Wrong passwords for `names`, one browser from `address`; the pages shown."""
    with browser(topo, address) as http:
        page = http.get(topo.proxy_url + "/sign-in")
        return [_password_attempt(page, http, name, "wrong password") for name in names]


def test_failed_sign_ins_throttle_only_the_client_that_made_them(topology: Topology) -> None:
    address_limit = topology.platform.config.LOGIN_MAX_FAILURES * 4  # accounts/auth.py default
    throttled = "too many failed sign-in attempts from your network"
    # each name once, so no account locks, only the address; four tabs at once, to be quick
    names = [f"nobody.{n}" for n in range(address_limit)]
    with ThreadPoolExecutor(4) as tabs:
        shown = [
            page
            for pages in tabs.map(_fail_from, repeat(topology), repeat("127.0.0.2"), _split(names))
            for page in pages
        ]
    assert len(shown) == address_limit
    assert not [page for page in shown if throttled in page or page == "code"]
    sign_in_page = topology.proxy_url + "/sign-in"
    with browser(topology, "127.0.0.2") as noisy, browser(topology, "127.0.0.3") as quiet:
        page = noisy.get(sign_in_page)
        assert throttled in _password_attempt(page, noisy, COM, PASSWORD)
        # a header the client makes up is replaced by the address nginx saw
        noisy.headers["X-Forwarded-For"] = "127.0.0.9"
        assert throttled in _password_attempt(page, noisy, COM, PASSWORD)
        assert _password_attempt(quiet.get(sign_in_page), quiet, COM, PASSWORD) == "code"


def _split(names: list[str], tabs: int = 4) -> list[list[str]]:
    return [names[n::tabs] for n in range(tabs)]


# -- 5. HSTS and the Secure cookie ----------------------------------------------------------------
def test_https_through_the_proxy_gets_hsts_and_secure_cookies(topology: Topology) -> None:
    with browser(topology) as http:
        steps = sign_in(topology, http, COM)
    for response in steps:
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    done = steps[-1]
    session_cookie = next(c for c in done.cookies if c.name == SESSION_COOKIE)
    assert session_cookie.secure
    assert "HttpOnly" in done.headers["Set-Cookie"]
    visitor = steps[0].headers["Set-Cookie"]
    assert re.search(r"sp_visitor=[^;]+;.*\bSecure\b", visitor), visitor
    # the same node over plain http, not through the proxy: no HSTS
    direct = requests.get(topology.nodes[0].url + "/sign-in", timeout=30)
    assert "Strict-Transport-Security" not in direct.headers


# -- 6. a node killed outright -------------------------------------------------------------------
def test_requests_keep_succeeding_when_one_node_is_killed(topology: Topology) -> None:
    victim, survivor = topology.nodes
    reader = _api(topology.honsu_token)
    reader.verify = str(topology.cert)
    timeline = f"{topology.proxy_url}/api/v1/cases/{topology.case_id}/records"
    victim.kill()  # and it stays down: this is the module's last test
    answers = [reader.get(timeline, timeout=30) for _ in range(10)]
    answers.append(_post_secret_via_proxy(topology, reader))
    assert [a.status_code for a in answers] == [200] * 10 + [201]
    assert {topology.node_for(a.headers["X-Upstream"]).port for a in answers} == {survivor.port}


def _post_secret_via_proxy(topo: Topology, http: requests.Session) -> requests.Response:
    return http.post(
        f"{topo.proxy_url}/api/v1/cases/{topo.case_id}/records",
        json={
            "record_type": "MINUTES",
            "occurred_on": dt.date.today().isoformat(),
            "classification": "SECRET",
            "title": "Minute while a node is down",
            "body": "SECRET-ONLY-TEXT: written through the proxy with one node down.",
        },
        timeout=30,
    )
