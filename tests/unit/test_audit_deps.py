"""The dependency audit's reading of pip-audit and npm audit reports (scripts/audit_deps.py):
a finding fails the audit unless allowed, and an unreachable service is never read as clean."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "audit_deps", Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"
)
assert _spec and _spec.loader
audit_deps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit_deps)


def test_a_python_vulnerability_is_a_finding() -> None:
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {
                "name": "jinja2",
                "version": "3.0.0",
                "vulns": [{"id": "PYSEC-2024-1", "fix_versions": ["3.1.4"]}],
            },
        ]
    }
    findings, reached = audit_deps.python_findings(report)
    assert reached
    assert findings == ["jinja2 3.0.0: PYSEC-2024-1 (fixed in 3.1.4)"]


def test_every_dependency_skipped_means_not_audited() -> None:
    skipped = {"name": "flask", "version": "3.1.3", "skip_reason": "Dependency not found on PyPI"}
    findings, reached = audit_deps.python_findings({"dependencies": [skipped]})
    assert (findings, reached) == ([], False)


def _npm(url: str) -> dict:
    return {
        "vulnerabilities": {
            "axe-core": {"severity": "high", "via": [{"url": url, "title": "x"}]},
        }
    }


def test_an_npm_advisory_fails_unless_allowed() -> None:
    url = "https://github.com/advisories/GHSA-aaaa-bbbb-cccc"
    assert audit_deps.npm_findings(_npm(url), set()) == (
        ["axe-core: high (GHSA-aaaa-bbbb-cccc)"],
        True,
    )
    assert audit_deps.npm_findings(_npm(url), {"GHSA-aaaa-bbbb-cccc"}) == ([], True)


def test_an_npm_endpoint_error_means_not_audited() -> None:
    report = {"error": {"code": "ENOAUDIT", "summary": "endpoint returned an error"}}
    assert audit_deps.npm_findings(report, set()) == ([], False)


def test_the_allow_list_reads_ids_and_ignores_comments(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    listed = tmp_path / "allow.txt"
    listed.write_text("# header\nGHSA-aaaa-bbbb-cccc  # unused feature; review 2027-03-01\n\n")
    monkeypatch.setattr(audit_deps, "ALLOWLIST", listed)
    assert audit_deps.allowed() == {"GHSA-aaaa-bbbb-cccc"}
