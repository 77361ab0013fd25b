"""Results, interleaved timing and the output table / JSON.

Every figure that matters is a ratio of two things measured in the same run, interleaved round by
round (A, B, B, A, ...), so that a noisy neighbour on a shared machine slows both sides alike.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Result:
    """One measure: its value, the baseline it is judged against, and their ratio."""

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
        **extra: object,
    ) -> Result:
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
        )


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


def table(results: list[Result]) -> str:
    rows = [("measure", "figure", "value", "baseline", "baseline value", "ratio", "goal", "met")]
    for r in results:
        met = {True: "yes", False: "NO", None: ""}[r.met]
        rows.append(
            (
                r.measure,
                r.name,
                _fmt(r.value, r.unit),
                r.baseline,
                _fmt(r.baseline_value, r.unit) if r.baseline_value is not None else "",
                f"{r.ratio:.3g}" if r.ratio is not None else "",
                r.goal,
                met,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  [{r.measure}] {r.name}: {r.note}" for r in results if r.note]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)


def write_json(
    path: Path, results: list[Result], machine: dict[str, object], sizes: dict[str, object]
) -> None:
    payload = {"machine": machine, "sizes": sizes, "measures": [asdict(r) for r in results]}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
