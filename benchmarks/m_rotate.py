"""Measure 6: online rotation of every data key of one level (every level in the full run, about
1M keys), against the raw unwrap+wrap of the same keys, with a concurrent reader counting failures.

The reader is another process with its own `Platform`, as another worker would be: it loads the
case page (SECRET records included) in a loop while the key administrator rotates.
"""

from __future__ import annotations

import multiprocessing as mp
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from shareplatform.crypto import keyring
from shareplatform.crypto.models import DataKey
from shareplatform.platform import Platform

from .core import Result
from .env import CORRIDOR_USER, Env, config_for
from .page import secure_page

# The full run's large database has 1M records, about a quarter of them SECRET: from this size on
# the measure rotates every level, so that about 1M data keys are re-wrapped under a live reader.
EVERY_LEVEL_FROM = 500_000
BATCH = 10_000  # keys per write transaction: the longest a reader's commit waits is one batch


def _raw_pass(env: Env, level: str) -> tuple[float, int]:
    """Unwrap and re-wrap every key of `level` in memory (no database writes): the floor. The
    same crypto call rotation makes (keyring.rewrap_keys), under the key's own version."""
    provider = env.platform.provider
    with env.platform.db.transaction() as session:
        keys = session.execute(
            select(DataKey.kek_version, DataKey.id, DataKey.wrapped).where(
                DataKey.level == level, DataKey.wrapped.is_not(None)
            )
        ).all()
    by_version: dict[int, list[tuple[object, bytes]]] = {}
    for version, key_id, wrapped in keys:
        by_version.setdefault(version, []).append((key_id, bytes(wrapped or b"")))
    start = time.perf_counter()
    for version, some in by_version.items():
        keyring.rewrap_keys(provider, level, version, version, some)
    return time.perf_counter() - start, len(keys)


def _read_loop(
    url: str,
    keys_dir: str,
    case_id: uuid.UUID,
    ready: mp.synchronize.Event,
    stop: mp.synchronize.Event,
    ok: mp.sharedctypes.Synchronized[int],
    failed: mp.sharedctypes.Synchronized[int],
    errors: mp.Queue[str],
) -> None:
    """The reader process: case pages until told to stop, counting successes and failures."""
    platform = Platform(config_for(url, Path(keys_dir)))
    platform.bind()
    reader = Env("reader", Path(keys_dir).parent, url, Path(keys_dir), platform, case_id, 0)
    while not stop.is_set():
        try:
            html = secure_page(reader, CORRIDOR_USER, case_id)
            if "SECRET-ONLY-TEXT-" not in html:
                raise AssertionError("SECRET records missing from the page")
            with ok.get_lock():
                ok.value += 1
        except Exception as exc:  # counted: the measure is that there are none
            with failed.get_lock():
                failed.value += 1
            if failed.value <= 3:
                errors.put(repr(exc))
        ready.set()
    platform.db.dispose()


class _Reader:
    def __init__(self, env: Env) -> None:
        ctx = mp.get_context("spawn")  # a fresh interpreter, like a separate worker
        self.ready, self.stop = ctx.Event(), ctx.Event()
        self.ok, self.failed = ctx.Value("i", 0), ctx.Value("i", 0)
        self.errors: mp.Queue[str] = ctx.Queue()
        self.process = ctx.Process(
            target=_read_loop,
            args=(
                env.url,
                str(env.keys_dir),
                env.case_id,
                self.ready,
                self.stop,
                self.ok,
                self.failed,
                self.errors,
            ),
        )

    def __enter__(self) -> _Reader:
        self.process.start()
        if not self.ready.wait(300):
            self.process.kill()
            raise RuntimeError("the reader process never loaded a page")
        return self

    def counts(self) -> tuple[int, int]:
        return self.ok.value, self.failed.value

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.process.join(120)
        if self.process.is_alive():
            self.process.kill()

    def first_error(self) -> str:
        return "" if self.errors.empty() else self.errors.get(timeout=5)


def rotation(env: Env, batch: int = BATCH) -> list[Result]:
    levels = keyring.LEVELS if env.total_records >= EVERY_LEVEL_FROM else ("SECRET",)
    raw_before = {level: _raw_pass(env, level) for level in levels}
    seconds: dict[str, float] = {}
    rewrapped: dict[str, int] = {}
    with _Reader(env) as reader:
        ok_before, failed_before = reader.counts()
        for level in levels:
            start = time.perf_counter()
            done = env.platform.key_admin.rotate(level, batch)  # the path `keys rotate` takes
            seconds[level] = time.perf_counter() - start
            rewrapped[level] = done.rewrapped
            _check_all_rewrapped(env, level, done.version)
        ok_after, failed_after = reader.counts()
    raw_after = {level: _raw_pass(env, level) for level in levels}
    raw = {level: (raw_before[level][0] + raw_after[level][0]) / 2 for level in levels}
    failed = failed_after - failed_before
    out = [_compared(env, ("SECRET",), seconds, raw, rewrapped, batch)]
    if len(levels) > 1:
        out.append(_compared(env, levels, seconds, raw, rewrapped, batch))
    error = reader.first_error() if failed_after else ""
    out.append(
        Result(
            "6 rotate",
            "concurrent reader failed requests",
            float(failed),
            "requests",
            goal="== 0",
            met=failed == 0,
            note=f"{ok_after - ok_before} case pages read by another process during the "
            f"{sum(seconds.values()):.1f} s of rotation"
            + (f"; first error: {error}" if error else ""),
            extra={"reads": ok_after - ok_before},
        )
    )
    return out


def _compared(
    env: Env,
    levels: tuple[str, ...],
    seconds: dict[str, float],
    raw: dict[str, float],
    rewrapped: dict[str, int],
    batch: int,
) -> Result:
    keys = sum(rewrapped[level] for level in levels)
    elapsed = sum(seconds[level] for level in levels)
    what = f"all {levels[0]}" if len(levels) == 1 else "every level's"
    return Result.compared(
        "6 rotate",
        f"rotate {what} data keys",
        elapsed,
        "s",
        "raw unwrap+wrap, same keys",
        sum(raw[level] for level in levels),
        goal="ratio <= 3",
        met=lambda _value, ratio: ratio <= 3,
        note=f"{keys:,} data keys ({', '.join(levels)}) of {env.total_records:,} records "
        f"re-wrapped in batches of {batch:,}, {keys / elapsed:,.0f} keys/s, a reader process "
        "loading the case page throughout; raw pass before and after averaged",
        keys=keys,
    )


def _check_all_rewrapped(env: Env, level: str, version: int) -> None:
    with env.platform.db.transaction() as session:
        left = session.scalar(
            select(func.count())
            .select_from(DataKey)
            .where(
                DataKey.level == level, DataKey.kek_version < version, DataKey.wrapped.is_not(None)
            )
        )
    if left:
        raise AssertionError(f"{left} {level} data keys still on an old KEK version")
