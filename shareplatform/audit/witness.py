"""The witness: every committed checkpoint, copied outside the database.

An append-only JSON-lines file, or syslog when the setting starts with `syslog:` (`syslog:`
alone is the local socket, `syslog:/dev/log`, `syslog:HOST:PORT` over UDP). Verification reads
the file (or a copy of the syslog lines: each line's JSON starts at its first `{`).
Writing must never fail the request that committed: a failure is logged as an error.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
from dataclasses import dataclass
from pathlib import Path

from .checkpoints import Checkpoint

log = logging.getLogger(__name__)
SYSLOG = "syslog:"
MARKER = "shareplatform-audit-checkpoint"  # prefixes each syslog message
_JSON = json.JSONDecoder()


class Witness:
    location = ""

    def write(self, checkpoint: Checkpoint) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the sink holds open (a syslog socket); files are opened per write."""

    def append(self, checkpoint: Checkpoint) -> None:
        try:
            self.write(checkpoint)
        except Exception:  # the database has committed; the request must not fail now
            log.exception(
                "audit witness %s: could not record the checkpoint at %d",
                self.location,
                checkpoint.size,
            )


class FileWitness(Witness):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)

    def write(self, checkpoint: Checkpoint) -> None:
        line = (json.dumps(checkpoint.as_json(), sort_keys=True) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: one write per line, so processes appending at once never interleave lines
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


class SyslogWitness(Witness):
    def __init__(self, address: str) -> None:
        self.location = SYSLOG + address
        target: str | tuple[str, int]
        if not address:
            target = "/dev/log" if os.path.exists("/dev/log") else ("localhost", 514)
        elif address.startswith("/"):
            target = address
        else:
            host, _, port = address.rpartition(":")
            target = (host or "localhost", int(port or 514))
        self._handler = logging.handlers.SysLogHandler(address=target)

    def write(self, checkpoint: Checkpoint) -> None:
        message = MARKER + " " + json.dumps(checkpoint.as_json(), sort_keys=True)
        record = logging.LogRecord(__name__, logging.INFO, __file__, 0, message, None, None)
        self._handler.emit(record)

    def close(self) -> None:
        self._handler.close()


def witness_for(setting: str) -> Witness | None:
    if not setting:
        return None
    if setting.startswith(SYSLOG):
        return SyslogWitness(setting.removeprefix(SYSLOG))
    return FileWitness(setting)


@dataclass(frozen=True)
class WitnessLine:
    number: int
    checkpoint: Checkpoint | None
    problem: str = ""


def read(path: str | Path) -> list[WitnessLine]:
    """Every line of a witness file (or a syslog copy). A missing file holds none."""
    try:
        text = Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return []
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("{") and MARKER not in line:
            continue  # other syslog traffic
        try:
            # the first JSON object on the line: syslog adds a prefix and may add a NUL after
            data, _ = _JSON.raw_decode(line, line.index("{"))
            out.append(WitnessLine(number, Checkpoint.from_json(data)))
        except (KeyError, TypeError, ValueError) as exc:
            out.append(WitnessLine(number, None, f"witness line {number} is malformed ({exc})"))
    return out
