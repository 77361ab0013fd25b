"""gunicorn's settings for `gunicorn wsgi:app` (read from the working directory; options given on
the command line win, as tests/support/processes.py and benchmarks/m_server.py give theirs).

Environment: SHAREPLATFORM_WORKERS (default 2 x cores + 1, at most 8),
SHAREPLATFORM_WORKER_TIMEOUT (seconds, default 60). Client addresses behind a reverse proxy come
from SHAREPLATFORM_PROXY_HOPS in the app (shareplatform/__init__.py), not from gunicorn.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from typing import Any

METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_made_here: dict[str, str] = {}  # the metrics directory, when on_starting made it
MAX_DEFAULT_WORKERS = 8  # each worker holds its own database pool and HSM session


def _whole(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{name}={value!r} must be a whole number of at least 1")
    return int(value)


workers = _whole("SHAREPLATFORM_WORKERS", min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS))
worker_class = "sync"
timeout = _whole("SHAREPLATFORM_WORKER_TIMEOUT", 60)  # a worker silent this long is restarted
graceful_timeout = 30  # on TERM, requests in flight get this long to finish
keepalive = 5

# Each worker builds its own app after the fork: database pools and the PKCS#11 session are never
# shared with the master (PKCS#11 forbids a child using its parent's session; even so,
# shareplatform/crypto/pkcs11.py reopens per process should preload ever be turned on).
preload_app = False

# Trust no X-Forwarded-* header in gunicorn itself: the app's ProxyFix decides, from
# SHAREPLATFORM_PROXY_HOPS, so the two can never disagree about the client.
forwarded_allow_ips = ""

# The heartbeat file on memory, not on a disk that may stall (containers).
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - gunicorn creates its private heartbeat files here
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY

# No runtime control socket (gunicornc): workers are changed by redeploying, not by whoever can
# reach a socket on the host; and a read-only root filesystem has nowhere to put it.
control_socket_disable = True


def on_starting(server: object) -> None:
    """Refuse to start in the master, once, with the setting named: a worker refused by the same
    check would otherwise be replaced, fail again and be replaced, for ever. Then give the workers
    one metrics directory (prometheus_client's multiprocess mode: /metrics adds up every worker,
    shareplatform/observability/metrics.py), emptied of an earlier run's values."""
    from shareplatform.config import Config, ConfigError

    try:
        Config.from_env().validate()
    except ConfigError as exc:
        raise SystemExit(f"shareplatform will not start: {exc}") from None
    metrics = os.environ.get(METRICS_DIR)
    if not metrics:
        metrics = _made_here["metrics"] = tempfile.mkdtemp(prefix="shareplatform-metrics-")
    os.makedirs(metrics, exist_ok=True)
    for stale in glob.glob(os.path.join(metrics, "*.db")):
        os.remove(stale)
    os.environ[METRICS_DIR] = metrics  # inherited by every worker forked from here on


def on_exit(server: object) -> None:
    if "metrics" in _made_here:
        shutil.rmtree(_made_here["metrics"], ignore_errors=True)


def child_exit(server: object, worker: Any) -> None:
    """A worker's live gauges leave /metrics with it (prometheus_client's multiprocess rule)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
