"""Results, interleaved timing and the output table / JSON.

Every figure that matters is a ratio of two things measured in the same run, interleaved round by
round (A, B, B, A, ...), so that a noisy neighbour on a shared machine slows both sides alike.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Result:
    """One measure: its value, the baseline it is judged against, their ratio, and its floor.

    The floor is what the path could at best cost, measured in the same run (e.g. the plaintext
    twin page plus the raw crypto of the same rows): `to_floor` says how far the value is from
    it, as a factor >= 1 whichever way the unit runs (`higher_is_better` for throughputs).
    """

    measure: str  # e.g. "1 read path"
    name: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    ratio: float | None = None  # value / baseline_value unless said otherwise in `note`
    goal: str = ""
    met: bool | None = None  # None: no goal for this figure
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    floor: str = ""  # what the floor is made of
    floor_value: float | None = None  # in `unit`, like value
    higher_is_better: bool = False  # True for throughputs (req/s, rows/s): sets to_floor's sense

    @property
    def to_floor(self) -> float | None:
        """How many times the floor the value costs: value / floor (floor / value for rates)."""
        if self.floor_value is None or not self.value or not self.floor_value:
            return None
        if math.isnan(self.value) or math.isnan(self.floor_value):
            return None
        if self.higher_is_better:
            return self.floor_value / self.value
        return self.value / self.floor_value

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"to_floor": self.to_floor}

    @classmethod
    def compared(
        cls,
        measure: str,
        name: str,
        value: float,
        unit: str,
        baseline: str,
        baseline_value: float,
        goal: str = "",
        met: Callable[[float, float], bool] | None = None,
        note: str = "",
        *,
        floor: str = "",
        floor_value: float | None = None,
        higher_is_better: bool | None = None,
        **extra: object,
    ) -> Result:
        """`higher_is_better` left None is read from the unit: a rate ("notes/s") is better high."""
        ratio = value / baseline_value if baseline_value else None
        verdict = met(value, ratio) if (met is not None and ratio is not None) else None
        return cls(
            measure,
            name,
            value,
            unit,
            baseline,
            baseline_value,
            ratio,
            goal,
            verdict,
            note,
            dict(extra),
            floor,
            floor_value,
            is_rate(unit) if higher_is_better is None else higher_is_better,
        )


def is_rate(unit: str) -> bool:
    return unit.endswith("/s")


def interleaved(
    variants: dict[str, Callable[[], object]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run each variant once per round, alternating the order (ABBA...); seconds per call."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else list(reversed(names))
        for name in order:
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# -- output --------------------------------------------------------------------------------
def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("s", "ms", "us") or abs(value) < 1000:
        text = f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    else:
        text = f"{value:,.0f}"
    return f"{text} {unit}".strip()


def _ratio(value: float | None) -> str:
    return f"{value:.3g}" if value is not None and not math.isnan(value) else ""


def table(results: list[Result]) -> str:
    rows = [
        (
            "measure",
            "figure",
            "value",
            "baseline",
            "baseline value",
            "ratio",
            "goal",
            "met",
            "floor",
            "x floor",
        )
    ]
    for r in results:
        met = {True: "yes", False: "NO", None: "-"}[r.met] if r.goal or r.met is not None else ""
        rows.append(
            (
                r.measure,
                r.name,
                _fmt(r.value, r.unit),
                r.baseline,
                _fmt(r.baseline_value, r.unit) if r.baseline_value is not None else "",
                _ratio(r.ratio),
                r.goal,
                met,
                _fmt(r.floor_value, r.unit) if r.floor_value is not None else "",
                _ratio(r.to_floor),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    judged = [r for r in results if r.met is not None]
    lines += ["", f"Goals met: {sum(1 for r in judged if r.met)} of {len(judged)}."]
    floors = _floors(results)
    if floors:
        lines += ["", "Floors (what the path could at best cost, same run):", *floors]
    notes = [f"  [{r.measure}] {r.name}: {r.note}" for r in results if r.note]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)


def _floors(results: list[Result]) -> list[str]:
    """One line per floor text, naming every figure that shares it (the server's percentiles)."""
    named: dict[tuple[str, str], list[str]] = {}
    for r in results:
        if r.floor:
            named.setdefault((r.measure, r.floor), []).append(r.name)
    return [f"  [{m}] {'; '.join(names)}: {text}" for (m, text), names in named.items()]


def write_json(
    path: Path,
    results: list[Result],
    machine: dict[str, object],
    sizes: dict[str, object],
    seconds: float | None = None,
) -> None:
    payload = {
        "machine": machine,
        "sizes": sizes,
        "seconds": seconds,  # the whole run, wall clock
        "goals_met": sum(1 for r in results if r.met),
        "goals_judged": sum(1 for r in results if r.met is not None),
        "measures": [r.as_dict() for r in results],
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
