"""Known-vulnerability audit of the locked dependencies: Python (pip-audit over requirements.lock)
and front-end (npm audit over package-lock.json).

Fails (exit 1) on any known vulnerability not in scripts/audit-allowlist.txt. When an advisory
service cannot be reached (a closed network answers every lookup with "not found"), says so on
stderr and, unless --strict is given, does not fail: an audit that could not run is reported as
not run, never as clean.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "scripts" / "audit-allowlist.txt"


def allowed() -> set[str]:
    """Advisory ids (PYSEC-, GHSA-, CVE-) accepted after review, one per line, `# why` after."""
    ids = set()
    for line in ALLOWLIST.read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            ids.add(entry)
    return ids


def audit_python(ignore: set[str]) -> tuple[list[str], bool]:
    """(findings, reached): pip-audit of the hashed lock, without resolving or installing."""
    cmd = [sys.executable, "-m", "pip_audit", "-r", str(ROOT / "requirements.lock")]
    cmd += ["--no-deps", "--disable-pip", "-s", "pypi", "-f", "json", "--progress-spinner", "off"]
    for vuln in sorted(ignore):
        cmd += ["--ignore-vuln", vuln]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        print(f"audit: pip-audit failed: {out.stderr.strip()[-500:]}", file=sys.stderr)
        return [], False
    return python_findings(report)


def python_findings(report: dict) -> tuple[list[str], bool]:
    """Findings in a pip-audit JSON report, and whether any dependency was actually looked up."""
    audited = [d for d in report.get("dependencies", []) if "skip_reason" not in d]
    findings = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in {_fixes(v)})"
        for d in audited
        for v in d.get("vulns", [])
    ]
    return findings, bool(audited)


def audit_npm(ignore: set[str]) -> tuple[list[str], bool]:
    """(findings, reached): npm audit of package-lock.json, dev dependencies included."""
    out = subprocess.run(
        ["npm", "audit", "--package-lock-only", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(out.stdout or "{}")
    except json.JSONDecodeError:
        return [], False
    return npm_findings(report, ignore)


def _fixes(vuln: dict) -> str:
    return ", ".join(vuln.get("fix_versions", [])) or "none"


def npm_findings(report: dict, ignore: set[str]) -> tuple[list[str], bool]:
    """Findings in an npm audit JSON report not allowed by `ignore`; False when npm could not
    reach the advisory endpoint."""
    if "error" in report:
        return [], False
    findings = []
    for name, vuln in report.get("vulnerabilities", {}).items():
        advisories = [v for v in vuln.get("via", []) if isinstance(v, dict)]
        ids = {str(a.get("url", "")).rsplit("/", 1)[-1] for a in advisories}
        if advisories and ids <= ignore:
            continue
        findings.append(f"{name}: {vuln.get('severity')} ({', '.join(sorted(ids)) or 'via'})")
    return findings, True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="fail when a service is unreachable")
    args = parser.parse_args()
    ignore = allowed()
    failed = unreached = False
    for name, audit in (("python", audit_python), ("npm", audit_npm)):
        findings, reached = audit(ignore)
        if not reached:
            unreached = True
            print(
                f"audit: WARNING: {name} advisories could not be reached; NOT audited",
                file=sys.stderr,
            )
            continue
        for finding in findings:
            print(f"audit: {name}: {finding}", file=sys.stderr)
        failed |= bool(findings)
        print(f"audit: {name}: {len(findings)} known vulnerabilities not allowed")
    if failed:
        return 1
    return 2 if unreached and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
