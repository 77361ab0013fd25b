"""Per-record sealing and opening through the AccessLayer against the raw primitives the same
rows need (a data key's AES key wrap or unwrap plus AES-256-GCM of each field), same run; the
AES-GCM part alone is kept as a detail."""

from __future__ import annotations

import os
import time
import uuid
from datetime import date

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from shareplatform.audit.log import Event
from shareplatform.cases.models import Case
from shareplatform.db import utcnow
from shareplatform.domain.labels import Classification, Label
from shareplatform.records.models import Record
from shareplatform.records.services import record_facts

from .core import Result, median
from .env import CORRIDOR_USER, WRITER, Env
from .rawcrypto import RawCrypto, Shape, shape_of, stored_shapes

_AAD = b"SPAD" + b"\x00" * 120  # the same length as the associated data the envelope binds


def _rows(
    env: Env, n: int, author_id: uuid.UUID
) -> tuple[list[dict[str, object]], list[dict[str, str | None]]]:
    rows, plains = [], []
    for i in range(n):
        rows.append(
            {
                "id": uuid.uuid4(),
                "case_id": env.case_id,
                "record_type": "CONTACT_OFFICE",
                "originating_agency": "NSD",
                "author_id": author_id,
                "occurred_on": date.today(),
                "created_at": utcnow(),
                "classification": ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET")[i % 3],
                "caveats": "",
            }
        )
        plains.append(
            {
                "title": f"Sealing benchmark {i}",
                "body": "Contact recorded; no concerns. " * 6,
                "correction_reason": None,
            }
        )
    return rows, plains


def _raw_encrypt(
    aes: AESGCM, plains: list[dict[str, str | None]]
) -> list[tuple[bytes, bytes, bytes, bytes]]:
    out = []
    for p in plains:
        n1, n2 = os.urandom(12), os.urandom(12)
        out.append(
            (
                n1,
                aes.encrypt(n1, (p["title"] or "").encode(), _AAD),
                n2,
                aes.encrypt(n2, (p["body"] or "").encode(), _AAD),
            )
        )
    return out


def _shapes(rows: list[dict[str, object]], plains: list[dict[str, str | None]]) -> list[Shape]:
    """What sealing these rows needs: a data key each, every non-empty field bound to the row."""
    return [
        shape_of(
            "records",
            str(row["id"]),
            Label.of(str(row["classification"]), str(row["caveats"])).canonical(),
            str(uuid.uuid4()),
            {f"{name}_ct": text for name, text in plain.items() if text is not None},
        )
        for row, plain in zip(rows, plains, strict=True)
    ]


def seal_open(env: Env, n: int = 1000, rounds: int = 10) -> list[Result]:
    writer = env.platform.system_writer
    aes = AESGCM(AESGCM.generate_key(bit_length=256))
    primitives = RawCrypto()
    with env.platform.transaction() as session:
        author_id = env.user(session, WRITER).id
    seal_t, raw_seal_t, aes_seal_t = [], [], []
    for r in range(rounds):
        rows, plains = _rows(env, n, author_id)
        shapes = _shapes(rows, plains)

        def secure(rows: list = rows, plains: list = plains) -> None:  # type: ignore[type-arg]
            with env.platform.db.sessions() as session:
                start = time.perf_counter()
                keys = writer.seal_bulk(
                    session,
                    Record,
                    rows,
                    plains,
                    Event(
                        action="bench.seal",
                        object_type="record",
                        outcome="done",
                        label=Classification.SECRET,
                    ),
                )
                seal_t.append((time.perf_counter() - start) / n)
                assert len(keys) == n and all(row["body_ct"] for row in rows)
                session.rollback()

        def raw(plains: list = plains, shapes: list[Shape] = shapes) -> None:  # type: ignore[type-arg]
            raw_seal_t.append(primitives.timed_seal(shapes) / n)
            start = time.perf_counter()
            _raw_encrypt(aes, plains)
            aes_seal_t.append((time.perf_counter() - start) / n)

        for step in (secure, raw) if r % 2 == 0 else (raw, secure):
            step()

    open_t, raw_open_t, aes_open_t, opened_n = [], [], [], 0
    with env.platform.db.sessions() as session:
        ctx = env.ctx(session, CORRIDOR_USER)
        access = env.platform.access
        case = session.get(Case, env.case_id)
        records = session.scalars(select(Record).where(Record.case_id == env.case_id)).all()
        facts = {r.id: record_facts(ctx, case, r) for r in records}  # type: ignore[arg-type]
        session.commit()
        sample = _raw_encrypt(
            aes,
            [
                {
                    "title": "Bench record 1: contact office",
                    "body": "Record 1 on the bench case. "
                    + "Observed, discussed and agreed next steps. " * 4,
                }
                for _ in records
            ],
        )
        event = Event(
            action="bench.read",
            object_type="record",
            outcome="allow",
            label=Classification.OFFICIAL,
            case_id=str(env.case_id),
        )
        first = access.read(session, ctx.subject, records, lambda row: facts[row.id], event)  # type: ignore[attr-defined]
        sealed = primitives.seal(stored_shapes(session, Record, [row.id for row, _ in first.rows]))
        session.commit()  # keeps the loaded rows (a rollback would expire them)
        for r in range(rounds):

            def secure_open() -> None:
                nonlocal opened_n
                start = time.perf_counter()
                opened = access.read(
                    session,
                    ctx.subject,
                    records,
                    lambda row: facts[row.id],  # type: ignore[attr-defined]
                    event,
                )
                elapsed = time.perf_counter() - start
                opened_n = len(opened.rows)
                open_t.append(elapsed / opened_n)
                session.commit()  # keeps the loaded rows (a rollback would expire them)

            def raw_open() -> None:
                start = time.perf_counter()
                primitives.open(sealed)
                raw_open_t.append((time.perf_counter() - start) / len(sealed))
                start = time.perf_counter()
                for n1, c1, n2, c2 in sample[: len(sealed)]:
                    aes.decrypt(n1, c1, _AAD)
                    aes.decrypt(n2, c2, _AAD)
                aes_open_t.append((time.perf_counter() - start) / len(sealed))

            for step in (secure_open, raw_open) if r % 2 == 0 else (raw_open, secure_open):
                step()
    primitives_seal, primitives_open = median(raw_seal_t) * 1e6, median(raw_open_t) * 1e6
    aes_seal, aes_open = median(aes_seal_t) * 1e6, median(aes_open_t) * 1e6
    return [
        Result.compared(
            "crypto",
            "seal one record (SystemWriter.seal_bulk)",
            median(seal_t) * 1e6,
            "us",
            "raw data-key wrap + AES-256-GCM, same fields",
            primitives_seal,
            goal="ratio <= 2",
            met=lambda v, r: r <= 2,
            note=f"batches of {n}: new DEK + key wrap + AAD + grant check; "
            f"one audit entry per batch; AES-256-GCM alone {aes_seal:.3g} us",
            floor="the raw primitives: a data key's AES key wrap + AES-256-GCM of title and body",
            floor_value=primitives_seal,
            aes_gcm_only_us=aes_seal,
        ),
        Result.compared(
            "crypto",
            "open one record (AccessLayer.read)",
            median(open_t) * 1e6,
            "us",
            "raw data-key unwrap + AES-256-GCM, same fields",
            primitives_open,
            goal="ratio <= 2",
            met=lambda v, r: r <= 2,
            note=(
                f"{opened_n} of {len(records)} records opened per call: decisions (cached), one "
                f"audit entry, data-key fetch, unwrap, decrypt; AES-256-GCM alone {aes_open:.3g} us"
            ),
            floor="the raw primitives: the data key's AES key unwrap + AES-256-GCM of its fields",
            floor_value=primitives_open,
            aes_gcm_only_us=aes_open,
        ),
    ]
