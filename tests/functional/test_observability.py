"""Structured logs and Prometheus metrics (shareplatform/observability/)."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client import REGISTRY

from shareplatform.observability import logs
from tests.support.web import sign_in

TOKEN = "metrics-token-for-tests"


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_answers_only_the_bearer_of_its_token(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SHAREPLATFORM_METRICS_TOKEN", raising=False)
    assert client.get("/metrics").status_code == 404
    monkeypatch.setenv("SHAREPLATFORM_METRICS_TOKEN", TOKEN)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "shareplatform_request_duration_seconds_bucket" in body
    assert "shareplatform_access_decisions_total" in body


def test_requests_and_access_decisions_are_counted(client, seeded) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    seen = _sample(
        "shareplatform_request_duration_seconds_count", route="cases.caseload", status="2xx"
    )
    allowed = _sample("shareplatform_access_decisions_total", outcome="allow")
    denied = _sample("shareplatform_access_decisions_total", outcome="deny")
    assert client.get("/cases").status_code == 200
    assert client.get("/admin/policy").status_code == 403  # a probation officer is refused
    after = _sample(
        "shareplatform_request_duration_seconds_count", route="cases.caseload", status="2xx"
    )
    assert after == seen + 1
    assert _sample("shareplatform_access_decisions_total", outcome="allow") > allowed
    assert _sample("shareplatform_access_decisions_total", outcome="deny") > denied


def test_integrity_failures_are_counted(app) -> None:  # type: ignore[no-untyped-def]
    before = _sample("shareplatform_integrity_failures_total")
    logging.getLogger("shareplatform.integrity").error("stamp does not verify on row %s", "x")
    logging.getLogger("shareplatform.integrity").warning("not a failure")
    assert _sample("shareplatform_integrity_failures_total") == before + 1


def test_json_lines_carry_the_request_fields(client, seeded, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHAREPLATFORM_LOG_FORMAT", "json")
    logs.configure(production=False)
    try:
        sign_in(client, seeded, "com.cole")
        capsys.readouterr()
        r = client.get("/cases", headers={"X-Request-Id": "trace-42"})
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    finally:
        monkeypatch.delenv("SHAREPLATFORM_LOG_FORMAT")
        logs.configure(production=False)
    assert r.headers["X-Request-Id"] == "trace-42"
    [line] = [x for x in lines if x["logger"] == "shareplatform.request"]
    assert {"time", "level", "logger", "message"} <= line.keys()
    assert line["request_id"] == "trace-42"
    assert line["route"] == "cases.caseload"
    assert line["method"] == "GET"
    assert len(line["user_id"]) == 36


@pytest.mark.parametrize(
    ("setting", "production", "expected"),
    [("", False, "text"), ("", True, "json"), ("json", False, "json"), ("text", True, "text")],
)
def test_the_log_format_follows_the_settings(
    monkeypatch: pytest.MonkeyPatch, setting: str, production: bool, expected: str
) -> None:
    monkeypatch.setenv("SHAREPLATFORM_LOG_FORMAT", setting)
    assert logs.log_format(production) == expected
