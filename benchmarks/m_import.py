"""Import figures: import throughput against plain bulk inserts of the same rows, and the API's
case-records endpoint against the web case page (both in-process, through the real app)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import date, timedelta

import pyotp
from sqlalchemy import delete, insert, select

from benchmarks.import_throughput import ImportRun, Throughput
from shareplatform import create_app
from shareplatform.accounts.models import User
from shareplatform.accounts.tokens import create_token

from .core import Result, interleaved, median
from .env import CORRIDOR_USER, DEMO_PASSWORD, DEMO_TOTP, Env, config_for
from .rawcrypto import RawCrypto, import_shapes
from .twin import PlainRecord

IMPORT_ROUNDS = 5  # interleaved import / plain insert rounds (median of each)
_CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def import_throughput(env: Env, records: int) -> list[Result]:
    """The importer's write rate from the file's bytes (parse, validate, match, seal, insert,
    audit) against Core bulk inserts of as many plaintext rows into the twin table, interleaved
    round by round in the same run (median of each)."""
    run = ImportRun(env.platform, records, "com.cole")
    dry = run.once(run.new_file(), dry_run=True)
    files = iter([run.new_file() for _ in range(IMPORT_ROUNDS + 1)])  # +1: the warm-up round
    with env.platform.db.transaction() as s:
        author = s.scalar(select(User.id).where(User.username == "com.cole"))
    batches = [
        [
            {
                "id": uuid.uuid4(),
                "case_id": env.case_id,
                "record_type": "CONTACT_OFFICE",
                "originating_agency": "NSD",
                "author_id": author,
                "occurred_on": date.today() - timedelta(days=i % 300),
                "classification": "OFFICIAL",
                "caveats": "",
                "title": f"Imported contact {i}",
                "body": "Imported from nDelius. " * 8,
            }
            for i in range(records)
        ]
        for _ in range(IMPORT_ROUNDS + 1)
    ]
    pending = iter(batches)
    last_file = b""

    def import_one() -> None:
        nonlocal last_file
        last_file = next(files)
        run.once(last_file)

    def plain_one() -> None:
        with env.platform.db.transaction() as s:
            s.execute(insert(PlainRecord.__table__), next(pending))

    times = interleaved({"import": import_one, "plain": plain_one}, IMPORT_ROUNDS)
    reimport = run.once(last_file)  # every row already present: matching only
    secure = Throughput(
        records, records / dry, records / median(times["import"]), records / reimport
    )
    plain = records / median(times["plain"])
    rows = batches[0]
    with env.platform.db.transaction() as s:  # leave the twin as the read measures expect it
        for batch in batches:
            s.execute(
                delete(PlainRecord.__table__).where(PlainRecord.id.in_([r["id"] for r in batch]))
            )
    raw = RawCrypto().timed_seal(import_shapes(rows)) / records  # seconds per row
    return [
        Result.compared(
            "8 import",
            f"import of {records:,} records (CSV/JSON path)",
            secure.import_rows_per_second,
            "rows/s",
            "plain Core bulk insert, same rows",
            plain,
            goal="ratio >= 0.5",
            met=lambda v, r: r >= 0.5,
            note=(
                f"validate-only (dry run) {secure.dry_run_rows_per_second:,.0f} rows/s; "
                "re-import (all matched, nothing written) "
                f"{secure.reimport_rows_per_second:,.0f} rows/s"
            ),
            floor=(
                f"plain Core bulk insert {1e6 / plain:.3g} us + raw key wrap and AES-256-GCM of "
                f"title and body {raw * 1e6:.3g} us, per row"
            ),
            floor_value=1 / (1 / plain + raw),
            higher_is_better=True,
        )
    ]


def api_vs_web(env: Env, rounds: int) -> list[Result]:
    """GET /api/v1/cases/<id>/records (token) against GET /cases/<id> (signed-in page), same app."""
    app = create_app(config_for(env.url, env.keys_dir))
    app.config["WTF_CSRF_ENABLED"] = True
    with env.platform.db.transaction() as s:
        user = s.scalar(select(User).where(User.username == CORRIDOR_USER))
        _, token = create_token(
            s, env.platform.access, user, f"bench-{uuid.uuid4().hex[:6]}", "read", 1, by_system=True
        )
    web = app.test_client()
    page = web.get("/sign-in").get_data(as_text=True)
    r = web.post(
        "/sign-in",
        data={"csrf_token": _csrf(page), "username": CORRIDOR_USER, "password": DEMO_PASSWORD},
    )
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    with env.platform.db.transaction() as s:
        last = s.scalar(select(User.totp_last_step).where(User.username == CORRIDOR_USER)) or 0
    step = max(int(time.time()) // 30 - 1, last + 1)
    r = web.post(
        "/sign-in/code",
        data={"csrf_token": _csrf(page), "code": pyotp.TOTP(DEMO_TOTP).at(step * 30)},
    )
    if r.status_code != 302:
        raise RuntimeError("could not sign in for the API/web comparison")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    path_api = f"/api/v1/cases/{env.case_id}/records?page_size=200"
    path_web = f"/cases/{env.case_id}"
    for response in (api.get(path_api, headers=headers), web.get(path_web)):
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code} from {response.request.path}")
    times = interleaved(
        {"api": lambda: api.get(path_api, headers=headers), "web": lambda: web.get(path_web)},
        rounds,
    )
    return [
        Result.compared(
            "8 api",
            "API case records, 200 records, corridor user",
            median(times["api"]) * 1000,
            "ms",
            "web case page, same case and user",
            median(times["web"]) * 1000,
            note=f"in-process test clients, median of {rounds} interleaved rounds",
        )
    ]


def _csrf(html: str) -> str:
    match = _CSRF.search(html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)
