"""Liveness and readiness (shareplatform/observability/health.py): public, up or down only, no
unit of work, no audit entry."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select, text

from shareplatform.access.models import PolicyState
from shareplatform.audit.models import AuditEntry
from shareplatform.web.permissions import PUBLIC, permission_of


@pytest.fixture
def app_platform(platform):  # type: ignore[no-untyped-def]
    """A fresh platform (default policy, no data) on SQLite and PostgreSQL."""
    return platform


def _audit_size(platform) -> int:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0


@pytest.fixture
def checkouts(app) -> Iterator[list[int]]:  # type: ignore[no-untyped-def]
    """Connections this thread takes from the pool (the key watch's thread is not counted)."""
    engine = app.extensions["shareplatform"].db.engine
    taken: list[int] = []

    def checkout(*_: object) -> None:
        if threading.current_thread() is threading.main_thread():
            taken.append(1)

    event.listen(engine, "checkout", checkout)
    yield taken
    event.remove(engine, "checkout", checkout)


def test_the_routes_are_declared_public(app) -> None:  # type: ignore[no-untyped-def]
    for endpoint in ("healthz", "readyz", "metrics"):
        assert permission_of(app.view_functions[endpoint]) is PUBLIC


def test_healthz_is_up_without_touching_the_database(app, client, checkouts) -> None:  # type: ignore[no-untyped-def]
    client.get("/healthz")  # the first request derives the cookie key: the platform binds once
    checkouts.clear()
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok"}
    assert checkouts == []


def test_readyz_is_ready_and_writes_no_audit_entry(app, client, app_platform) -> None:  # type: ignore[no-untyped-def]
    before = _audit_size(app_platform)
    r = client.get("/readyz")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"status": "ok"}
    assert _audit_size(app_platform) == before


def _unready(client, caplog, check: str) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING, logger="shareplatform.observability.health"):
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.get_json() == {"status": "unready"}  # the failing check is named in the log only
    assert check not in r.get_data(as_text=True)
    assert any(f"check {check} failed" in rec.getMessage() for rec in caplog.records)


def test_readyz_refuses_when_migrations_are_behind(app, client, app_platform, caplog) -> None:  # type: ignore[no-untyped-def]
    with app_platform.transaction() as s:
        s.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
    _unready(client, caplog, "migrations")


def test_readyz_refuses_without_a_policy(app, client, app_platform, caplog) -> None:  # type: ignore[no-untyped-def]
    app.extensions["shareplatform"].access.invalidate()
    with app_platform.transaction() as s:
        s.execute(text("DELETE FROM policy_rules"))
        state = s.get(PolicyState, 1)
        assert state is not None
        state.version, state.rules_digest = 0, None
    _unready(client, caplog, "policy")


def test_readyz_refuses_when_the_database_is_away(app, client, caplog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client.get("/healthz")  # bind while the database is there
    engine = app.extensions["shareplatform"].db.engine

    def refuse(*_: object) -> None:
        raise ConnectionError("database away")

    monkeypatch.setattr(engine, "connect", refuse)
    _unready(client, caplog, "database")
    assert client.get("/healthz").status_code == 200


def test_the_request_id_is_echoed_or_made(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["X-Request-Id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-Id": "no spaces <allowed>"})
    assert made.headers["X-Request-Id"] not in ("", "no spaces <allowed>")
    assert (
        len(client.get("/healthz", headers={"X-Request-Id": "a" * 65}).headers["X-Request-Id"])
        == 36
    )
