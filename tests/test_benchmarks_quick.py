"""Smoke test: the benchmarks package imports and one tiny measure runs (no timing asserted)."""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks import MEASURES, Sizes
from benchmarks import env as bench_env
from benchmarks.core import table
from benchmarks.m_authz import authorisation


def test_authorisation_measure_runs_on_a_tiny_bench_case(tmp_path: Path) -> None:
    env = bench_env.build(
        tmp_path / "bench", "tiny", nominals=0, records=0, seed=3, case_records=12
    )
    try:
        results = authorisation(
            env, page=20, rounds=1, raw_calls=3
        )  # also checks cache == enforce()
    finally:
        env.dispose()
    assert [r.measure for r in results] == ["2 authz"] * 3
    for r in results:
        assert r.value > 0 and r.baseline_value and r.baseline_value > 0
        assert r.ratio is not None and math.isclose(r.ratio, r.value / r.baseline_value)
    assert results[0].met in (True, False)
    assert "2 authz" in table(results)
    assert "server" in MEASURES and Sizes.quick().large_records < Sizes.full().large_records
