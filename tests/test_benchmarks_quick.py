"""Smoke test: the benchmarks package imports and tiny measures run (no timing asserted)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import MEASURES, Sizes
from benchmarks import env as bench_env
from benchmarks.core import Result, table, write_json
from benchmarks.m_authz import authorisation
from benchmarks.m_read import opened_rows
from benchmarks.m_statements import kind, statement_counts
from benchmarks.rawcrypto import RawCrypto, shape_of


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bench_env.Env]:
    env = bench_env.build(
        tmp_path_factory.mktemp("bench"), "tiny", nominals=0, records=0, seed=3, case_records=12
    )
    try:
        yield env
    finally:
        env.dispose()


def test_authorisation_measure_runs_on_a_tiny_bench_case(tiny: bench_env.Env) -> None:
    results = authorisation(tiny, page=20, rounds=1, raw_calls=3)  # also checks cache == enforce()
    assert [r.measure for r in results] == ["2 authz"] * 3
    for r in results:
        assert r.value > 0 and r.baseline_value and r.baseline_value > 0
        assert r.ratio is not None and math.isclose(r.ratio, r.value / r.baseline_value)
    assert results[0].met in (True, False)
    assert "2 authz" in table(results)
    assert "server" in MEASURES and Sizes.quick().large_records < Sizes.full().large_records


def test_result_floor_runs_the_right_way_for_times_and_rates(tmp_path: Path) -> None:
    page = Result.compared(
        "1 read", "page", 30.0, "ms", "twin", 10.0, goal="ratio <= 1.3",
        met=lambda v, r: r <= 1.3, floor="twin + raw crypto", floor_value=12.0,
    )  # fmt: skip
    writes = Result.compared(
        "4 write", "notes", 50.0, "notes/s", "plain", 200.0, goal="ratio >= 0.5",
        met=lambda v, r: r >= 0.5, floor="plain + raw crypto", floor_value=190.0,
    )  # fmt: skip
    plain = Result.compared("x", "no floor", 1.0, "ms", "b", 2.0)  # the older call still works
    assert page.met is False and not page.higher_is_better
    assert page.to_floor is not None and math.isclose(page.to_floor, 30.0 / 12.0)
    assert writes.higher_is_better  # read from the unit when not said
    assert writes.to_floor is not None and math.isclose(writes.to_floor, 190.0 / 50.0)
    assert plain.floor_value is None and plain.to_floor is None and plain.met is None
    explicit = Result("x", "rate", 4.0, "items", floor_value=8.0, higher_is_better=True)
    assert explicit.to_floor == 2.0

    text = table([page, writes, plain])
    assert "x floor" in text and "twin + raw crypto" in text and "NO" in text
    assert "Goals met: 0 of 2." in text
    out = tmp_path / "out.json"
    write_json(out, [page, writes, plain], {}, {})
    figures = json.loads(out.read_text())["measures"]
    assert [f["to_floor"] for f in figures][2] is None
    shown = {"floor", "floor_value", "to_floor", "higher_is_better", "goal", "met"}
    assert shown <= set(figures[0])
    assert math.isclose(figures[1]["to_floor"], 3.8)


def test_raw_crypto_of_the_read_floor_opens_what_it_sealed(tiny: bench_env.Env) -> None:
    raw = RawCrypto()
    sealed = raw.seal([shape_of("records", "r1", "SECRET", "k1", {"title_ct": "abc"})])
    assert raw.open(sealed) == 3
    rows = opened_rows(tiny, raw)  # the nominal, two level changes and the records shown
    assert len(rows) > 3 and raw.open(rows) > 0


def test_statement_counts_per_request(tiny: bench_env.Env) -> None:
    assert kind("  select 1") == "SELECT" and kind("INSERT INTO x") == "INSERT"
    results = statement_counts(tiny)
    assert [r.measure for r in results] == ["statements"] * 3
    for r in results:
        assert r.unit == "statements" and r.value > 0 and r.baseline_value
        assert r.goal == "" and r.met is None
        assert r.extra["secure_kinds"] and "SELECT" in r.note
