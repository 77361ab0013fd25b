"""Client load for the fault tests: writer threads posting SECRET notes through the API and
remembering every acknowledged (201) write, reader threads loading the case's records, and
reading every body back through the API afterwards."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Self

import requests
from sqlalchemy import select

from shareplatform.accounts import tokens
from shareplatform.accounts.models import User
from tests.factories import fresh_platform
from tests.security import builders
from tests.support import integrity
from tests.support.processes import flask, instance_env


@dataclass
class LoadInstance:
    """A migrated instance with one case (tests/security/builders.py small_world) and API tokens
    of its HoNSU, who may write and read SECRET notes on it."""

    url: str
    keys: Path
    env: dict[str, str]
    case_id: str
    tokens: list[str]
    exempt: set[uuid.UUID]  # the builders' records, whose batch entry lists no ids


def load_instance(db_url: str, keys: Path, clients: int) -> LoadInstance:
    platform = fresh_platform(db_url, keys)
    try:
        small = builders.small_world(platform)
        raw = []
        with platform.transaction() as session:
            honsu = session.scalar(select(User).where(User.username == small.honsu))
            for n in range(clients):
                _, token = tokens.create_token(
                    session, platform.access, honsu, f"client {n}", "read-write", 1, by_system=True
                )
                raw.append(token)
            exempt = integrity.record_ids(session)
    finally:
        platform.close()
    return LoadInstance(db_url, keys, instance_env(db_url, keys), str(small.case_id), raw, exempt)


@dataclass
class Acknowledged:
    record_id: str
    body: str
    at: float  # when the 201 came back
    started: float  # when the note was posted
    title: str


def post_note(
    http: requests.Session, base: str, case_id: str, title: str, body: str
) -> requests.Response:
    """Post one SECRET minute on the case through the API (the session carries the token)."""
    return http.post(
        f"{base}/api/v1/cases/{case_id}/records",
        json={
            "record_type": "MINUTES",
            "occurred_on": date.today().isoformat(),
            "classification": "SECRET",
            "title": title,
            "body": body,
        },
        timeout=30,
    )


class _Clients:
    """One client thread per token, each with its own HTTP session, from `with` until its end."""

    def __init__(self, base: str, case_id: str, tokens_: list[str]) -> None:
        self.base, self.case_id, self.tokens = base, case_id, tokens_
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(len(tokens_))
        ]

    def _client(self, n: int) -> None:
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {self.tokens[n]}"
            self._run(http, n)

    def _run(self, http: requests.Session, n: int) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)


class Writers(_Clients):
    """Client threads posting SECRET notes through the API; every 201 is remembered. Each
    attempt carries a title and body of its own, so a duplicate row is visible as a repeat."""

    def __init__(self, base: str, case_id: str, tokens_: list[str], tag: str = "") -> None:
        super().__init__(base, case_id, tokens_)
        self.tag = tag
        self.acked: list[Acknowledged] = []
        self.refused: list[str] = []

    def _run(self, http: requests.Session, n: int) -> None:
        count = 0
        while not self._stop.is_set():
            count += 1
            note = f"{self.tag}{n}-{count}"
            title = f"Minute {note}"
            body = f"Closed-session note {note}: the panel agreed to review the plan."
            started = time.monotonic()
            try:
                resp = post_note(http, self.base, self.case_id, title, body)
            except requests.RequestException as exc:
                self.refused.append(repr(exc))
                time.sleep(0.05)  # a server being restarted: do not spin
                continue
            if resp.status_code == 201:
                at = time.monotonic()
                self.acked.append(Acknowledged(resp.json()["id"], body, at, started, title))
            else:
                self.refused.append(f"{resp.status_code} {resp.text[:200]}")
                time.sleep(0.05)  # an outage answers at once: do not spin


class Readers(_Clients):
    """Client threads loading the first page of the case's records; answers counted by status
    (a connection refused or reset while a server is killed counts as "error")."""

    def __init__(self, base: str, case_id: str, tokens_: list[str]) -> None:
        super().__init__(base, case_id, tokens_)
        self.answers: dict[str, int] = {}
        self._lock = threading.Lock()

    def _count(self, what: str) -> None:
        with self._lock:
            self.answers[what] = self.answers.get(what, 0) + 1

    def _run(self, http: requests.Session, n: int) -> None:
        while not self._stop.is_set():
            try:
                resp = http.get(
                    f"{self.base}/api/v1/cases/{self.case_id}/records?page_size=20",
                    timeout=30,
                )
                self._count(str(resp.status_code))
            except requests.RequestException:
                self._count("error")
                time.sleep(0.05)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str = "") -> None:
    """Poll `predicate` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what or predicate}"
        time.sleep(0.1)


def case_bodies(base: str, token: str, case_id: str) -> list[str]:
    """Every readable record body on the case, through the API's timeline, page by page."""
    bodies: list[str] = []
    page: int | None = 1
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        while page is not None:
            resp = http.get(
                f"{base}/api/v1/cases/{case_id}/records",
                params={"page": page, "page_size": 200},
                timeout=60,
            )
            assert resp.status_code == 200, (resp.status_code, resp.text[:300])
            data = resp.json()
            bodies += [i["record"]["body"] for i in data["items"] if not i["withheld"]]
            page = data["next_page"]
    return bodies


def unreadable(base: str, token: str, acked: list[Acknowledged]) -> list[tuple[str, int]]:
    """The acknowledged notes that do not read back with their body through the API (lost), with
    the status each answered."""
    lost = []
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        for note in acked:
            resp = http.get(f"{base}/api/v1/records/{note.record_id}", timeout=30)
            if resp.status_code != 200 or resp.json()["body"] != note.body:
                lost.append((note.record_id, resp.status_code))
    return lost


@dataclass
class Outcome:
    """What a fresh server shows after the faults: the figures each fault test reports."""

    acknowledged: int
    lost: int  # acknowledged, but not readable with its body through the API
    duplicated: int  # bodies present more than once
    unacknowledged_present: int  # committed, but the client never saw the 201 (not an error)
    half_written: int
    integrity: integrity.Integrity
    audit_verify: str

    def figures(self) -> dict[str, int]:
        return {
            "acknowledged": self.acknowledged,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "half_written": self.half_written,
            "unacknowledged_present": self.unacknowledged_present,
        }


def settle(instance: LoadInstance, acked: list[Acknowledged], base: str) -> Outcome:
    """Read every acknowledged note back through the API of a server started after the last
    fault (at `base`), count repeated bodies on the case, check the tables for half-written rows,
    verify the audit log."""
    from shareplatform.platform import Platform
    from tests.factories import make_config

    lost = len(unreadable(base, instance.tokens[0], acked))
    bodies = case_bodies(base, instance.tokens[0], instance.case_id)
    notes = [b for b in bodies if b.startswith("Closed-session note ")]
    duplicated = len(notes) - len(set(notes))
    unacknowledged = len(set(notes) - {a.body for a in acked})
    platform = Platform(make_config(instance.url, instance.keys))
    try:
        with platform.transaction() as session:
            found = integrity.check(session, exempt=instance.exempt)
    finally:
        platform.close()
    verify = flask(instance.env, "audit", "verify")
    return Outcome(
        len(acked),
        lost,
        duplicated,
        unacknowledged,
        found.half_written,
        found,
        f"exit {verify.returncode}: {verify.stdout.strip()[-300:]} {verify.stderr.strip()[-300:]}",
    )
