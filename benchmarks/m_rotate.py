"""Measure 6: online rotation of every data key of one level, against the raw unwrap+wrap of the
same keys, with a concurrent reader (another Platform, like another worker) counting failures."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from shareplatform.crypto.models import DataKey
from shareplatform.platform import Platform

from .core import Result
from .env import CORRIDOR_USER, Env, config_for
from .page import secure_page


def _raw_pass(env: Env, level: str) -> tuple[float, int]:
    """Unwrap and re-wrap every key of `level` in memory (no database writes): the floor."""
    provider = env.platform.provider
    with env.platform.db.transaction() as session:
        keys = session.execute(
            select(DataKey.kek_version, DataKey.wrapped).where(
                DataKey.level == level, DataKey.wrapped.is_not(None)
            )
        ).all()
    start = time.perf_counter()
    for version, wrapped in keys:
        provider.wrap(level, version, provider.unwrap(level, version, wrapped))
    return time.perf_counter() - start, len(keys)


def rotation(env: Env, level: str = "SECRET", batch: int = 2000) -> list[Result]:
    raw_before, n_keys = _raw_pass(env, level)
    reader_platform = Platform(config_for(env.url, env.keys_dir))
    reader_platform.bind()
    reader = Env(
        env.name + "-reader",
        env.root,
        env.url,
        env.keys_dir,
        reader_platform,
        env.case_id,
        env.total_records,
    )
    stop = threading.Event()
    ok, failed, errors = [0], [0], []

    def read_loop() -> None:
        while not stop.is_set():
            try:
                html = secure_page(reader, CORRIDOR_USER, env.case_id)
                if "SECRET-ONLY-TEXT-" not in html:
                    raise AssertionError("SECRET records missing from the page")
                ok[0] += 1
            except Exception as exc:  # counted: the measure is that there are none
                failed[0] += 1
                errors.append(repr(exc))

    thread = threading.Thread(target=read_loop)
    thread.start()
    start = time.perf_counter()
    rotation = env.platform.key_admin.rotate(level, batch)  # the path `keys rotate` takes
    version, rewrapped = rotation.version, rotation.rewrapped
    elapsed = time.perf_counter() - start
    stop.set()
    thread.join()
    reader_platform.db.dispose()
    raw_after, _ = _raw_pass(env, level)
    raw = (raw_before + raw_after) / 2
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
    note = (
        f"{rewrapped:,} {level} data keys of {env.total_records:,} records "
        f"re-wrapped to v{version} in "
        f"batches of {batch}; raw pass before and after averaged"
    )
    return [
        Result.compared(
            "6 rotate",
            f"rotate all {level} data keys",
            elapsed,
            "s",
            "raw unwrap+wrap, same keys",
            raw,
            note=note,
            keys=rewrapped,
        ),
        Result(
            "6 rotate",
            "concurrent reader failed requests",
            float(failed[0]),
            "requests",
            goal="== 0",
            met=failed[0] == 0,
            note=f"{ok[0]} case pages read during the rotation"
            + (f"; first error: {errors[0]}" if errors else ""),
        ),
    ]
