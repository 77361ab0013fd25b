"""The witness sinks and the signed checkpoint format: a file of JSON lines, syslog over UDP,
and a reader that accepts a copy of the syslog lines and names malformed ones."""

from __future__ import annotations

import socket
from pathlib import Path

from shareplatform.audit import chain, witness
from shareplatform.audit.checkpoints import Checkpoint
from shareplatform.audit.log import Signer

SIGNER = Signer(b"\x05" * 32)


def _checkpoint(size: int) -> Checkpoint:
    root, at = bytes([size]) * 32, "2025-03-01T09:30:00.000000Z"
    return Checkpoint(
        size, root, at, SIGNER.key_id, SIGNER.sign(chain.checkpoint_note(size, root, at))
    )


def test_note_is_the_clear_text_that_is_signed() -> None:
    cp = _checkpoint(3)
    assert cp.note().decode().splitlines() == [
        "shareplatform audit",
        "3",
        "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=",
        "2025-03-01T09:30:00.000000Z",
    ]
    assert cp.signed_by(SIGNER.public_key)
    assert not cp.signed_by(Signer(b"\x06" * 32).public_key)
    assert Checkpoint.from_json(cp.as_json()) == cp


def test_file_witness_appends_lines_and_the_reader_names_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "witness.jsonl"
    sink = witness.witness_for(str(path))
    assert isinstance(sink, witness.FileWitness)
    assert witness.read(path) == []
    sink.append(_checkpoint(1))
    sink.append(_checkpoint(2))
    with path.open("a") as f:
        f.write('{"origin": "shareplatform audit", "size": "x"}\n')
    lines = witness.read(path)
    assert [line.checkpoint.size for line in lines[:2] if line.checkpoint] == [1, 2]
    assert lines[2].checkpoint is None and "witness line 3 is malformed" in lines[2].problem


def test_syslog_witness_sends_one_message_per_checkpoint(tmp_path: Path) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(10)
    try:
        port = server.getsockname()[1]
        sink = witness.witness_for(f"syslog:127.0.0.1:{port}")
        assert isinstance(sink, witness.SyslogWitness)
        try:
            sink.append(_checkpoint(7))
            message = server.recv(65536).decode()
        finally:
            sink.close()
    finally:
        server.close()
    assert witness.MARKER in message
    copy = tmp_path / "syslog-copy"
    copy.write_text("Mar  1 09:30:00 host other: {not ours}\n" + "Mar  1 host app: " + message)
    [line] = witness.read(copy)
    assert line.checkpoint == _checkpoint(7)


def test_a_failing_sink_logs_instead_of_raising(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    blocked = tmp_path / "file"
    blocked.write_text("")
    witness.FileWitness(blocked / "witness.jsonl").append(_checkpoint(1))
    assert "could not record the checkpoint at 1" in caplog.text
