"""Measure 2: authorisation decisions for a page of records, cold and warm, vs bare enforce()."""

from __future__ import annotations

import time

from sqlalchemy import select

from shareplatform.access.enforcer import PolicyEngine
from shareplatform.access.facts import Facts, SubjectFacts
from shareplatform.access.store import current_version, load_rules
from shareplatform.cases.models import Case
from shareplatform.records.models import Record
from shareplatform.records.services import record_facts

from .core import Result, median
from .env import CORRIDOR_USER, Env


def page_facts(
    env: Env, page: int, username: str = CORRIDOR_USER
) -> tuple[SubjectFacts, list[Facts], list]:  # type: ignore[type-arg]
    """The facts the kernel decides on for `page` records of the bench case (cycled if fewer)."""
    with env.platform.transaction() as session:
        ctx = env.ctx(session, username)
        case = session.get(Case, env.case_id)
        records = session.scalars(
            select(Record).where(Record.case_id == env.case_id).order_by(Record.id)
        ).all()
        facts = [record_facts(ctx, case, records[i % len(records)]) for i in range(page)]  # type: ignore[arg-type]
        s = ctx.subject
        sub = SubjectFacts(s.role.value, s.clearance.marking if s.clearance else "")
        rules = load_rules(session)
        version = current_version(session)
    return sub, facts, [rules, version]


def decide_page(engine: PolicyEngine, sub: SubjectFacts, facts: list[Facts]) -> int:
    """What AccessLayer.read does per row: read, else notice. Returns how many were allowed."""
    allowed = 0
    for f in facts:
        if engine.decide(sub, f, "read").allowed:
            allowed += 1
        else:
            engine.decide(sub, f, "notice")
    return allowed


def authorisation(
    env: Env, page: int = 500, rounds: int = 20, raw_calls: int = 100
) -> list[Result]:
    sub, facts, (rules, version) = page_facts(env, page)
    check = PolicyEngine(rules, version)
    for f in facts:  # the cache never changes an answer
        for act in ("read", "notice"):
            if check.decide(sub, f, act).allowed != check.raw_enforce(sub, f, act):
                raise AssertionError(f"cached decision differs from enforce() for {f} {act}")
    cold, warm, raw, builds, evaluations = [], [], [], [], 0
    for r in range(rounds):
        t0 = time.perf_counter()
        engine = PolicyEngine(rules, version)
        builds.append(time.perf_counter() - t0)
        before = engine.evaluations
        t0 = time.perf_counter()
        decide_page(engine, sub, facts)
        cold.append(time.perf_counter() - t0)
        evaluations = engine.evaluations - before

        def warm_once(engine: PolicyEngine = engine) -> None:
            t = time.perf_counter()
            decide_page(engine, sub, facts)
            warm.append(time.perf_counter() - t)

        def raw_once(engine: PolicyEngine = engine) -> None:
            t = time.perf_counter()
            for i in range(raw_calls):
                engine.raw_enforce(sub, facts[i % len(facts)], "read")
            raw.append((time.perf_counter() - t) / raw_calls)

        for step in (warm_once, raw_once) if r % 2 == 0 else (raw_once, warm_once):
            step()
    raw_call = median(raw)
    warm_page, cold_page = median(warm), median(cold)
    note = (
        f"{page} records, {evaluations} distinct policy evaluations when cold; PolicyEngine build "
        f"{median(builds) * 1000:.1f} ms (not included); {len(rules)} policy lines"
    )
    return [
        Result.compared(
            "2 authz",
            f"decisions for a page of {page}, warm",
            warm_page * 1000,
            "ms",
            f"{page} bare enforce() calls",
            raw_call * page * 1000,
            goal="<= 1 ms per page warm",
            met=lambda v, r: v <= 1.0,
            note=note,
        ),
        Result.compared(
            "2 authz",
            f"decisions for a page of {page}, cold (fresh PolicyEngine)",
            cold_page * 1000,
            "ms",
            f"{page} bare enforce() calls",
            raw_call * page * 1000,
        ),
        Result.compared(
            "2 authz",
            "per decision, warm (cached)",
            warm_page / page * 1e6,
            "us",
            "one bare enforce() call",
            raw_call * 1e6,
        ),
    ]
