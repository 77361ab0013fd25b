"""gunicorn (2 workers) killed with SIGKILL under load, on SQLite and PostgreSQL: a worker, then
the master (and the workers it orphaned), several cycles, while writer clients post SECRET notes
and reader clients load the case's records.

Afterwards every acknowledged note reads back through the API, no note is stored twice, nothing
is half-written (tests/support/integrity.py) and the audit log verifies. The figures go to
test-results/faults.json.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.support import integrity
from tests.support.load import LoadInstance, Readers, Writers, load_instance, settle, wait_for
from tests.support.processes import Gunicorn, free_port

pytestmark = pytest.mark.slow

CYCLES = 3
WRITERS = 4
READERS = 2
PROGRESS = 8  # acknowledged writes to see between faults: the service is back and writing
ORPHAN_GRACE = 2  # seconds an orphaned worker gets to notice its master is gone


@pytest.fixture
def instance(db_url: str, tmp_path: Path) -> LoadInstance:
    return load_instance(db_url, tmp_path / "keys", WRITERS + READERS)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # the fields after the command name, which is in parentheses and may hold spaces
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def kill_master(server: Gunicorn) -> int:
    """SIGKILL the master; its orphaned workers get ORPHAN_GRACE seconds to notice (they check
    their parent between requests), then are killed too so that the port can be bound again.
    Returns how many had to be killed."""
    assert server.proc is not None
    workers = children(server.proc.pid)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(timeout=10)
    deadline = time.monotonic() + ORPHAN_GRACE
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftover = [w for w in workers if alive(w)]
    for w in leftover:
        os.kill(w, signal.SIGKILL)
    wait_for(lambda: not any(alive(w) for w in leftover), 10, "orphaned workers to die")
    server.stop()  # closes its log
    return len(leftover)


def test_workers_and_master_killed_under_load(instance: LoadInstance, tmp_path: Path) -> None:
    log, port = tmp_path / "gunicorn.log", free_port()
    backend = instance.url.split(":")[0].split("+")[0]
    server = Gunicorn(instance.env, workers=2, log=log, port=port).start()
    orphans_killed = 0
    writers = Writers(server.url, instance.case_id, instance.tokens[:WRITERS], tag="k")
    readers = Readers(server.url, instance.case_id, instance.tokens[WRITERS:])
    try:
        with writers, readers:

            def progressed(since: int) -> None:
                wait_for(lambda: len(writers.acked) >= since + PROGRESS, 90, "writes to resume")

            progressed(0)
            for _cycle in range(CYCLES):
                assert server.proc is not None
                before = len(writers.acked)
                os.kill(children(server.proc.pid)[0], signal.SIGKILL)  # the master respawns it
                progressed(before)
                before = len(writers.acked)
                orphans_killed += kill_master(server)
                server = Gunicorn(instance.env, workers=2, log=log, port=port).start()
                progressed(before)
        acked = list(writers.acked)
        outcome = settle(instance, acked, server.url)  # a server started after the last kill
    finally:
        server.stop()
    integrity.report(
        f"kill_cycles[{backend}]",
        cycles=CYCLES,
        worker_kills=CYCLES,
        master_kills=CYCLES,
        **outcome.figures(),
        refused=len(writers.refused),
        orphans_killed=orphans_killed,
        reader_answers=readers.answers,
    )
    assert outcome.lost == 0
    assert outcome.duplicated == 0
    assert outcome.half_written == 0, outcome.integrity.problems()
    assert "audit chain intact" in outcome.audit_verify, outcome.audit_verify
    # the clients saw failures only as dropped connections or answers, never a 500
    assert not [r for r in writers.refused if r.startswith("500")], writers.refused[:5]
    assert readers.answers.get("200", 0) > 0
