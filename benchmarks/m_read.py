"""Measures 1 (read path) and 3 (scale, with the query plans behind it)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select, text

from shareplatform.cases.models import MappaLevelChange, Nominal
from shareplatform.cases.services import case_view
from shareplatform.records.models import Record
from shareplatform.records.services import RecordView, timeline

from .core import Result, interleaved, median
from .env import CORRIDOR_USER, Env
from .page import plain_page, secure_page
from .rawcrypto import RawCrypto, Sealed, stored_shapes

_CARD = 'class="govuk-summary-card"'


def check_pages(env: Env) -> dict[str, int]:
    """The pages measure real work: the corridor user sees SECRET text, the twin shows every row."""
    secure = secure_page(env, CORRIDOR_USER, env.case_id)
    plain = plain_page(env, CORRIDOR_USER, env.case_id)
    shown, total = secure.count(_CARD), plain.count(_CARD)
    if "SECRET-ONLY-TEXT-" not in secure or shown == 0 or total == 0:
        raise AssertionError(
            "the secure case page did not open SECRET records for the corridor user"
        )
    return {"shown": shown, "notices": secure.count("govuk-inset-text"), "twin_rows": total}


@contextmanager
def stamps_unchecked() -> Iterator[None]:
    """The control for the cost of fact checks: the same page with every stamp taken as intact
    (shareplatform/crypto/attested.py). Only ever inside this benchmark."""
    from shareplatform.crypto.attested import Attestor

    check, values, intact = Attestor.check_object, Attestor.check_values, Attestor.intact
    Attestor.check_object = lambda self, obj: True  # type: ignore[method-assign]
    Attestor.check_values = lambda self, model, values, stored: True  # type: ignore[method-assign]
    Attestor.intact = lambda self, model, row: True  # type: ignore[method-assign]
    try:
        yield
    finally:
        Attestor.check_object, Attestor.check_values = check, values  # type: ignore[method-assign]
        Attestor.intact = intact  # type: ignore[method-assign]


def _unchecked_page(env: Env) -> str:
    with stamps_unchecked():
        return secure_page(env, CORRIDOR_USER, env.case_id)


def opened_rows(env: Env, raw: RawCrypto, username: str = CORRIDOR_USER) -> list[Sealed]:
    """The rows the case page decrypts for `username` (nominal, level changes, the records it
    shows), sealed again with the benchmark's own keys: the raw crypto of the read floor."""
    with env.platform.transaction() as session:
        ctx = env.ctx(session, username)
        view = case_view(ctx, env.case_id)
        shown = [i.id for i in timeline(ctx, view.case).items if isinstance(i, RecordView)]
        levels = session.scalars(
            select(MappaLevelChange.id).where(MappaLevelChange.case_id == env.case_id)
        ).all()
        shapes = (
            stored_shapes(session, Nominal, [view.case.nominal_id])
            + stored_shapes(session, MappaLevelChange, levels)
            + stored_shapes(session, Record, shown)
        )
    return raw.seal(shapes)


def read_path(env: Env, rounds: int) -> list[Result]:
    counts = check_pages(env)
    raw_crypto = RawCrypto()
    opened = opened_rows(env, raw_crypto)
    times = interleaved(
        {
            "secure": lambda: secure_page(env, CORRIDOR_USER, env.case_id),
            "plain": lambda: plain_page(env, CORRIDOR_USER, env.case_id),
            "unchecked": lambda: _unchecked_page(env),
            "raw crypto": lambda: raw_crypto.open(opened),
        },
        rounds,
    )
    secure, plain = median(times["secure"]) * 1000, median(times["plain"]) * 1000
    raw = median(times["raw crypto"]) * 1000
    floor = (
        f"twin page {plain:.3g} ms + raw key unwrap and AES-256-GCM decrypt of the "
        f"{len(opened)} rows it opens {raw:.3g} ms"
    )
    return [
        Result.compared(
            "1 read",
            "case page: cost of checking every fact stamp",
            secure,
            "ms",
            "the same page, stamps not checked",
            median(times["unchecked"]) * 1000,
            note=(
                "one HMAC-SHA256 per loaded row, or a comparison with the values of a stamp "
                f"already verified in this process; median of {rounds} interleaved rounds"
            ),
        ),
        Result.compared(
            "1 read",
            f"case page, {counts['twin_rows']} records, corridor user (full path)",
            secure,
            "ms",
            "plaintext twin page",
            plain,
            goal="ratio <= 1.3",
            met=lambda v, r: r <= 1.3,
            note=(
                f"{counts['shown']} records opened, {counts['notices']} notices, "
                f"the rest withheld (ORCON); "
                f"database of {env.total_records:,} records; median of {rounds} interleaved rounds"
            ),
            floor=floor,
            floor_value=plain + raw,
            raw_crypto_ms=raw,
            opened_rows=len(opened),
            shown=counts["shown"],
            notices=counts["notices"],
            twin_rows=counts["twin_rows"],
        ),
    ]


@contextmanager
def captured_selects(env: Env) -> Iterator[list[tuple[str, object]]]:
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = env.platform.db.engine
    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


_BIG = (
    "records",
    "data_keys",
    "audit_log",
    "record_attendees",
    "nominals",
    "cases",
    "nominal_index",
)


def query_plans(env: Env) -> tuple[list[dict[str, object]], list[str]]:
    """EXPLAIN QUERY PLAN (SQLite) for every SELECT the case page runs; full scans of big tables."""
    with captured_selects(env) as seen:
        secure_page(env, CORRIDOR_USER, env.case_id)
    plans, scans = [], []
    distinct: dict[str, object] = {}
    for statement, params in seen:
        distinct.setdefault(statement, params)
    raw = env.platform.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params in distinct.items():
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)  # type: ignore[arg-type]
            lines = [row[3] for row in cur.fetchall()]
            plans.append({"sql": _short(statement), "plan": lines})
            for line in lines:
                m = re.match(r"SCAN (\w+)", line)
                if m and m.group(1) in _BIG and "USING" not in line:
                    scans.append(f"{m.group(1)}: {line}")
    finally:
        raw.close()
    return plans, scans


def _short(statement: str) -> str:
    one = " ".join(statement.split())
    return one if len(one) <= 240 else one[:237] + "..."


def scale(small: Env, large: Env, rounds: int) -> list[Result]:
    check_pages(small)
    check_pages(large)
    times = interleaved(
        {
            "large": lambda: secure_page(large, CORRIDOR_USER, large.case_id),
            "small": lambda: secure_page(small, CORRIDOR_USER, small.case_id),
        },
        rounds,
    )
    plans, scans = query_plans(large) if large.platform.db.is_sqlite else ([], [])
    note = f"same {200}-record case in both databases; {len(plans)} distinct SELECTs per page; " + (
        "no full scan of a large table" if not scans else "FULL SCANS: " + "; ".join(scans)
    )
    return [
        Result.compared(
            "3 scale",
            f"case page at {large.total_records:,} records",
            median(times["large"]) * 1000,
            "ms",
            f"same page at {small.total_records:,} records",
            median(times["small"]) * 1000,
            goal="ratio <= 1.2",
            met=lambda v, r: r <= 1.2,
            note=note,
            plans=plans,
            scans=scans,
        )
    ]


def sqlite_version(env: Env) -> str:
    with env.platform.db.engine.connect() as conn:
        return str(conn.execute(text("select sqlite_version()")).scalar())


__all__ = ["read_path", "scale", "query_plans", "uuid"]
