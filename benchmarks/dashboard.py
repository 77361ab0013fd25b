"""Dashboard latency through the access layer against a plain SQL aggregate of the same figures.

`python -m benchmarks.dashboard [--quick]` (or `python -m benchmarks --only dashboard`).
Data: the demo users plus benchmarks/generate.py cases and records; generated cases carry no
release date, so the benchmark gives community cases one (deterministic) so the standards have
work to do.
Both sides run in the same process, interleaved; the plain side computes the same headcounts and
standards figures with no access clauses. The query plans of the main queries are printed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update

from shareplatform.cases.models import Case
from shareplatform.records.models import Record
from shareplatform.reports.dashboard import dashboard
from shareplatform.reports.scope import scope_for
from shareplatform.reports.settings import DEFAULT_REPORT_SETTINGS
from shareplatform.reports.standards import CONTACTS, SUPERVISED, CaseFacts, evaluate

from .core import Result, interleaved, median
from .env import DEMO_PASSWORD, DEMO_TOTP, Env, new_platform

GOAL = 2.0
SIZES = {"quick": (1_500, 30_000, 5), "full": (20_000, 400_000, 7)}  # nominals, records, rounds


def build(root: Path, nominals: int, records: int, seed: int) -> Env:
    from benchmarks.generate import generate
    from shareplatform.demo.seed import seed as demo_seed

    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / 'db.sqlite'}"
    platform = new_platform(url, root / "keys")
    demo_seed(platform, password=DEMO_PASSWORD, totp_secret=DEMO_TOTP)
    generate(platform, nominals, records, seed)
    today = date.today()
    with (
        platform.transaction() as s
    ):  # release dates 0..399 days ago for supervised generated cases
        ids = s.scalars(
            select(Case.id)
            .where(Case.reference.like("GEN-%"), Case.phase.in_(SUPERVISED))
            .order_by(Case.reference)
        ).all()
        s.execute(
            update(Case),
            [
                {"id": cid, "release_date": today - timedelta(days=(k * 37) % 400)}
                for k, cid in enumerate(ids)
            ],
        )
    with platform.transaction() as s:
        total = s.scalar(select(func.count()).select_from(Record)) or 0
    return Env("dashboard", root, url, root / "keys", platform, None, total, (nominals, records))  # type: ignore[arg-type]


def plain_figures(env: Env, where=None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The same headcounts and standards, in plain SQL over every case (no access clauses)."""
    today = date.today()
    out: dict[str, object] = {}
    with env.platform.db.sessions() as s:
        cond = where if where is not None else text("1=1")
        for column in (
            Case.category,
            Case.phase,
            Case.mappa_category,
            Case.mappa_level,
            Case.nsd_unit,
            Case.ct_unit,
        ):
            out[column.key] = dict(
                s.execute(select(column, func.count()).where(cond).group_by(column)).all()
            )
        cases = s.execute(
            select(Case.id, Case.phase, Case.mappa_level, Case.release_date).where(
                cond,
                Case.phase.in_(SUPERVISED),
                Case.release_date.is_not(None),
                Case.release_date <= today,
            )
        ).all()
        contacts: dict[object, list[tuple[str, date]]] = {}
        if cases:
            oldest = min(r[3] for r in cases)
            for cid, t, d in s.execute(
                select(Record.case_id, Record.record_type, Record.occurred_on)
                .join(Case, Case.id == Record.case_id)
                .where(
                    cond,
                    Case.phase.in_(SUPERVISED),
                    Case.release_date.is_not(None),
                    Record.record_type.in_(CONTACTS),
                    Record.occurred_on >= oldest,
                )
            ):
                contacts.setdefault(cid, []).append((t, d))
        for std in DEFAULT_REPORT_SETTINGS.standards:
            results = [
                evaluate(std, CaseFacts(p, lv, r), contacts.get(cid, []), today)
                for cid, p, lv, r in cases
            ]
            out[std.code] = sum(1 for x in results if x.in_window)
    return out


def through_access(env: Env, username: str) -> object:
    with env.platform.db.sessions() as s:
        board = dashboard(env.ctx(s, username))
        s.rollback()  # the audit entry is not kept: rounds stay identical
    return board


def plans(env: Env, username: str) -> list[str]:
    """EXPLAIN QUERY PLAN of the headcount and contacts queries as the dashboard builds them."""
    out = []
    with env.platform.db.sessions() as s:
        ctx = env.ctx(s, username)
        scope = scope_for(ctx)
        head = select(Case.category, func.count()).where(scope.cases()).group_by(Case.category)
        contacts = (
            select(Record.case_id, Record.record_type, Record.occurred_on)
            .join(Case, Case.id == Record.case_id)
            .where(
                scope.cases(),
                Case.phase.in_(SUPERVISED),
                Record.record_type.in_(CONTACTS),
                scope.records(),
            )
        )
        for name, stmt in (("headcount", head), ("contacts", contacts)):
            compiled = stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
            rows = s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            out.append(f"{username} {name}: " + "; ".join(str(r[-1]) for r in rows))
        s.rollback()
    return out


def measure(root: Path, quick: bool, seed: int = 1) -> list[Result]:
    nominals, records, rounds = SIZES["quick" if quick else "full"]
    env = build(root, nominals, records, seed)
    try:
        with env.platform.db.sessions() as s:  # the figures agree before they are timed
            national = dashboard(env.ctx(s, "pct.palmer"))
            assert national.figure("category").total == s.scalar(
                select(func.count()).select_from(Case)
            )
            s.rollback()
        results = []
        for user, where, label in (
            ("pct.palmer", None, "national (PCT lead)"),
            ("honsu.hughes", None, "HoNSU North (unit + panels)"),
        ):
            times = interleaved(
                {
                    "access": lambda u=user: through_access(env, u),
                    "plain": lambda w=where: plain_figures(env, w),
                },
                rounds,
            )
            a, p = median(times["access"]), median(times["plain"])
            results.append(
                Result.compared(
                    "9 dashboard",
                    f"{label}, {nominals:,} cases / {records:,} records",
                    a * 1000,
                    "ms",
                    "plain SQL, same figures"
                    if user == "pct.palmer"
                    else "plain SQL over every case",
                    p * 1000,
                    f"<= {GOAL:g}x",
                    lambda _v, r: r <= GOAL,
                    note="; ".join(plans(env, user)),
                )
            )
        return results
    finally:
        env.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="sp-bench-dash-"))
    try:
        for r in measure(root, args.quick, args.seed):
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
            print(
                f"{r.measure} | {r.name} | {r.value:.1f} ms vs {r.baseline_value:.1f} ms | {ratio} "
                f"(goal {r.goal}: {'met' if r.met else 'NOT met'})"
            )
            print(f"    plans: {r.note}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
