"""pycasbin under threads (CPython gh-106905): the uncached enforce path stays correct and raises
nothing when many threads call it at once."""

from __future__ import annotations

import itertools
import threading

from shareplatform.access import policy_files
from shareplatform.access.enforcer import PolicyEngine
from shareplatform.access.facts import Facts, SubjectFacts
from shareplatform.domain.labels import Classification

THREADS = 4
CALLS = 3000  # per thread: 12,000 uncached evaluations in all


def _requests() -> list[tuple[SubjectFacts, Facts, str]]:
    roles = ("POM", "KEYWORKER", "COM", "HONSU", "LRO", "MAPPA_ADMIN", "AUDITOR", "POLICY_ADMIN")
    clearances = ("", "OFFICIAL-SENSITIVE", "SECRET")
    kinds = ("record/CONTACT_OFFICE", "record/ASSESSMENT_ERG", "case", "policy", "audit")
    labels = tuple(Classification)
    rels = (
        dict(team=True),
        dict(panel=True),
        dict(oversight=True),
        dict(orcon_foreign=True, team=True),
        {},
    )
    out = []
    for role, clr, kind, label, rel, act in itertools.product(
        roles, clearances, kinds, labels, rels, ("read", "write", "notice", "edit")
    ):
        out.append((SubjectFacts(role, clr), Facts(kind, label, **rel), act))
    return out


def test_threaded_raw_enforce_matches_single_threaded() -> None:
    engine = PolicyEngine(policy_files.read(), version=1)
    requests = _requests()
    expected = [engine.raw_enforce(*r) for r in requests]
    assert any(expected) and not all(expected)
    errors: list[BaseException] = []
    wrong: list[tuple[int, bool]] = []
    start = threading.Barrier(THREADS)

    def work(offset: int) -> None:
        try:
            start.wait()
            for i in range(CALLS):
                k = (offset * 997 + i * 31) % len(requests)
                got = engine.raw_enforce(*requests[k])
                if got != expected[k]:
                    wrong.append((k, got))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert not wrong, wrong[:5]


def test_threaded_cached_decide_matches() -> None:
    engine = PolicyEngine(policy_files.read(), version=1)
    requests = _requests()
    expected = [engine.raw_enforce(*r) for r in requests]
    fresh = PolicyEngine(policy_files.read(), version=2)  # cold cache, filled concurrently
    errors: list[BaseException] = []
    wrong: list[int] = []

    def work(offset: int) -> None:
        try:
            for i in range(len(requests)):
                k = (i + offset * 500) % len(requests)
                if fresh.decide(*requests[k]).allowed != expected[k]:
                    wrong.append(k)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and not wrong
