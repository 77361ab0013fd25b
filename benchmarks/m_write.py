"""Measure 4: the write path (records.services.post_record) against plain ORM inserts of the same
rows, one writer and N concurrent writers (threads, own sessions), per database backend."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from shareplatform.domain.labels import Label
from shareplatform.records.models import Record
from shareplatform.records.services import NewRecord, post_record

from .core import Result
from .env import WRITER, Env
from .rawcrypto import RawCrypto, Shape, shape_of
from .twin import PlainAttendee, PlainRecord

BODY = "Home visit completed. Discussed employment, accommodation and licence conditions. " * 3


def _note(i: int) -> NewRecord:
    return NewRecord(
        "CONTACT_OFFICE",
        date.today() - timedelta(days=i % 30),
        "OFFICIAL-SENSITIVE",
        [],
        f"Benchmark note {i}",
        f"{BODY} ({i})",
    )


def note_shapes(n: int) -> list[Shape]:
    """What post_record seals for `n` notes: a new data key each, title and body bound to it."""
    shapes = []
    for i in range(n):
        note = _note(i)
        label = Label.of(note.classification, "").canonical()
        fields = {"title_ct": note.title, "body_ct": note.body}
        shapes.append(shape_of("records", str(uuid.uuid4()), label, str(uuid.uuid4()), fields))
    return shapes


def secure_writer(env: Env) -> Callable[[int], None]:
    """One writer's loop: a transaction per note (validation, decision, audit, sealing, commit)."""
    with env.platform.transaction() as session:
        subject = env.ctx(session, WRITER).subject

    def write(n: int) -> None:
        for i in range(n):
            with env.platform.transaction() as session:
                post_record(env.ctx(session, WRITER, subject), env.case_id, _note(i))

    return write


def plain_writer(env: Env) -> Callable[[int], None]:
    with env.platform.transaction() as session:
        author = env.user(session, WRITER)
        author_id, agency = author.id, author.agency

    def write(n: int) -> None:
        for i in range(n):
            note = _note(i)
            with env.platform.db.transaction() as session:
                row = PlainRecord(
                    id=uuid.uuid4(),
                    case_id=env.case_id,
                    record_type=note.record_type,
                    originating_agency=agency,
                    author_id=author_id,
                    occurred_on=note.occurred_on,
                    classification=note.classification,
                    caveats="",
                    title=note.title,
                    body=note.body,
                )
                session.add(row)
                session.flush()
                session.add(PlainAttendee(record_id=row.id, agency=agency, user_id=author_id))

    return write


def _run(
    make: Callable[[Env], Callable[[int], None]], env: Env, notes: int, threads: int
) -> tuple[float, int]:
    """Notes per second for `notes` spread over `threads` writers; and how many writers failed."""
    writers = [make(env) for _ in range(threads)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)
    per = max(1, notes // threads)

    def body(w: Callable[[int], None]) -> None:
        barrier.wait()
        try:
            w(per)
        except BaseException as exc:  # counted, never hidden
            errors.append(exc)

    pool = [threading.Thread(target=body, args=(w,)) for w in writers]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        print(f"    write errors: {errors[0]!r}")
    return per * threads / elapsed, len(errors)


def write_path(env: Env, backend: str, notes: int, rounds: int, threads: int = 8) -> list[Result]:
    with env.platform.transaction() as session:
        before = len(session.scalars(select(Record.id).where(Record.case_id == env.case_id)).all())
    raw, shapes = RawCrypto(), note_shapes(notes)
    out = []
    for n_threads in (1, threads):
        secure_rates: list[float] = []
        plain_rates: list[float] = []
        raw_seconds: list[float] = []
        failures = 0
        for r in range(rounds):
            order = ("secure", "plain", "raw") if r % 2 == 0 else ("raw", "plain", "secure")
            for which in order:
                if which == "raw":
                    raw_seconds.append(raw.timed_seal(shapes) / notes)
                    continue
                rate, errs = _run(
                    secure_writer if which == "secure" else plain_writer, env, notes, n_threads
                )
                failures += errs
                (secure_rates if which == "secure" else plain_rates).append(rate)
        secure_rate = sum(secure_rates) / len(secure_rates)
        plain_rate = sum(plain_rates) / len(plain_rates)
        raw_per_note = sum(raw_seconds) / len(raw_seconds)
        who = "1 writer" if n_threads == 1 else f"{n_threads} concurrent writers"
        out.append(
            Result.compared(
                "4 write",
                f"post_record, {backend}, {who}",
                secure_rate,
                "notes/s",
                "plain ORM inserts",
                plain_rate,
                goal="ratio >= 0.5",
                met=lambda v, r: r >= 0.5,
                note=(
                    f"{rounds} interleaved rounds of {notes} notes, one transaction each; "
                    f"failed writers: {failures}"
                    if failures or n_threads > 1
                    else ""
                ),
                floor=(
                    f"plain ORM insert {1e3 / plain_rate:.3g} ms + raw key wrap and AES-256-GCM "
                    f"of title and body {raw_per_note * 1e6:.3g} us, per note"
                ),
                floor_value=1 / (1 / plain_rate + raw_per_note),
                higher_is_better=True,
                failed_writers=failures,
                raw_crypto_us_per_note=raw_per_note * 1e6,
            )
        )
    with env.platform.transaction() as session:
        after = len(session.scalars(select(Record.id).where(Record.case_id == env.case_id)).all())
    expected = notes // threads * threads * rounds + notes * rounds
    if after - before > expected or after == before:
        raise AssertionError(
            f"write path wrote {after - before} records, expected up to {expected}"
        )
    return out
