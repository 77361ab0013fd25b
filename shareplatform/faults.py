"""Deterministic crash points for the fault-injection tests.

Each step of a multi-step operation that writes (key rotation and retirement, imports) calls
`point("name")`. Nothing happens unless the environment variable SHAREPLATFORM_FAULT names that
point, as `name` (the first time it is reached) or `name:N` (the Nth time): then the process kills
itself with SIGKILL, exactly as `kill -9` would, leaving whatever was not committed uncommitted.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def point(name: str) -> None:
    wanted = os.environ.get("SHAREPLATFORM_FAULT")
    if not wanted:
        return
    target, _, nth = wanted.partition(":")
    if target != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
