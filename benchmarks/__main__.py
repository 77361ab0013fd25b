"""`python -m benchmarks [--quick] [--json FILE] [--only NAME,...]`: every measure, one table."""

from __future__ import annotations

import argparse
import os
import platform as pyplatform
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from . import MEASURES, Sizes, run
from .core import table, write_json


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": pyplatform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes for every measure (< 3 minutes)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of: {', '.join(MEASURES)}"
    )
    parser.add_argument("--seed", type=int, default=1, help="data generation seed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases")
    args = parser.parse_args(argv)
    only = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = set(only) - set(MEASURES) - {"dashboard"}  # dashboard: benchmarks/dashboard.py
    if unknown:
        parser.error(f"unknown measure(s): {', '.join(sorted(unknown))}")
    sizes = Sizes.quick() if args.quick else Sizes.full()
    root = Path(tempfile.mkdtemp(prefix="sp-bench-"))
    started = time.perf_counter()
    try:
        rest = [m for m in only if m != "dashboard"] if only else list(MEASURES)
        results = run(root, sizes, rest, args.seed)
        if not only or "dashboard" in only:  # the dashboard benchmark builds its own database
            from .dashboard import measure

            results += measure(root / "dash", args.quick)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    info = machine()
    seconds = time.perf_counter() - started
    print()
    print(
        f"shareplatform benchmarks ({'quick' if args.quick else 'full'}), "
        f"{seconds:.0f} s; {info['cpu']}, {info['cores']} cores, "
        f"{info['memory']}, Python {info['python']}, SQLite {info['sqlite']}"
    )
    print()
    print(table(results))
    if args.json:
        write_json(args.json, results, info, asdict(sizes), seconds)
        print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
