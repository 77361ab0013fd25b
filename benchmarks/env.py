"""Benchmark environments: a migrated, key-bound platform with demo users, bulk data and one
deterministic "bench case" of mixed-label records (plus its plaintext twin rows)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shareplatform.access import policy_files, store
from shareplatform.accounts.models import User
from shareplatform.audit.log import Event
from shareplatform.cases.models import Case, MappaLevelChange
from shareplatform.cases.services import add_member, add_nominal, import_level, open_case
from shareplatform.config import Config
from shareplatform.context import Ctx
from shareplatform.crypto.models import DataKey
from shareplatform.db import utcnow
from shareplatform.domain.cases import RecordType
from shareplatform.domain.labels import Classification
from shareplatform.migrate import upgrade
from shareplatform.platform import Platform
from shareplatform.records.models import Record, RecordAttendee

from . import twin

REPO = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "correct horse battery staple"  # noqa: S105 (public demo credential)  # the same demo credentials as the test suite
DEMO_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CORRIDOR_USER = "honsu.hughes"  # HoNSU, DV, on the bench case's panel: sees SECRET
WRITER = "com.cole"  # COM (frontline), on the bench case's team: writes OFFICIAL-SENSITIVE notes
BENCH_REFERENCE = "BENCH-0001"


def _witness(keys_dir: Path) -> str:
    return str(keys_dir.parent / "audit-witness.jsonl")  # one per benchmark instance


def config_for(url: str, keys_dir: Path) -> Config:
    return Config(DATABASE_URL=url, KEYS_DIR=str(keys_dir), AUDIT_WITNESS=_witness(keys_dir))


def cli_env(url: str, keys_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAREPLATFORM_")}
    env.update(
        DATABASE_URL=url,
        SHAREPLATFORM_KEYS_DIR=str(keys_dir),
        SHAREPLATFORM_AUDIT_WITNESS=_witness(keys_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Env:
    name: str
    root: Path
    url: str
    keys_dir: Path
    platform: Platform
    case_id: uuid.UUID
    total_records: int
    generated: tuple[int, int] = (0, 0)  # (nominals, records) made by benchmarks/generate.py
    generate_seconds: float | None = None
    generate_output: str = ""

    def user(self, session: Session, username: str) -> User:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise LookupError(username)
        return user

    def ctx(self, session: Session, username: str, subject: object | None = None) -> Ctx:
        today = date.today()
        access = self.platform.access
        subj = subject or access.subject(session, self.user(session, username), today)
        return Ctx(session, access, subj, self.platform.indexer, today)  # type: ignore[arg-type]

    def dispose(self) -> None:
        self.platform.db.dispose()


def new_platform(url: str, keys_dir: Path) -> Platform:
    """Migrate, bind keys and load the default policy (what `make run` does before seeding)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    platform = Platform(config_for(url, keys_dir))
    platform.bind()
    with platform.transaction() as session:
        if not store.load_rules(session):
            store.replace_rules(session, policy_files.read())
    return platform


def generate_cli(
    url: str, keys_dir: Path, nominals: int, records: int, seed: int
) -> tuple[float, str]:
    """Run the generator as a command, `python -m benchmarks.generate`, and time it (wall clock)."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.generate",
        "--nominals",
        str(nominals),
        "--records",
        str(records),
        "--seed",
        str(seed),
    ]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=REPO, env=cli_env(url, keys_dir), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"benchmarks.generate failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc.stdout.strip()


def build(
    root: Path,
    name: str,
    *,
    nominals: int,
    records: int,
    seed: int,
    url: str | None = None,
    case_records: int = 200,
) -> Env:
    """A complete environment: platform, demo users, bulk data (via the CLI), bench case."""
    from shareplatform.demo.seed import seed as demo_seed

    root.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{root / 'db.sqlite'}"
    keys_dir = root / "keys"
    platform = new_platform(url, keys_dir)
    demo_seed(platform, password=DEMO_PASSWORD, totp_secret=DEMO_TOTP)
    gen_seconds, gen_output = None, ""
    if records:
        gen_seconds, gen_output = generate_cli(url, keys_dir, nominals, records, seed)
    case_id = bench_case(platform, seed, case_records)
    twin.create(platform.db.engine)
    fill_twins(platform, case_id)
    with platform.transaction() as session:
        total = session.scalar(select(func.count()).select_from(Record)) or 0
    return Env(
        name,
        root,
        url,
        keys_dir,
        platform,
        case_id,
        total,
        (nominals, records),
        gen_seconds,
        gen_output,
    )


# -- the bench case ------------------------------------------------------------------------
_TYPES = [t.value for t in RecordType if t is not RecordType.SANITISED_ACTION]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128) | (4 << 76))


def _label_of(i: int, rng: random.Random) -> tuple[str, str, str]:
    """(classification, caveats, author username): 30% OFFICIAL, 50% O-S, 20% SECRET; some ORCON."""
    roll = rng.random()
    if roll < 0.2:
        author = "honsu.hughes" if i % 2 else "lro.lewis"
        return "SECRET", ("ORCON" if author == "lro.lewis" and i % 3 == 0 else ""), author
    author = ("com.cole", "pom.parker", "nm.nash")[i % 3]
    classification = "OFFICIAL" if roll < 0.5 else "OFFICIAL-SENSITIVE"
    caveats = "ORCON" if rng.random() < 0.12 else ("PERSONAL" if rng.random() < 0.05 else "")
    return classification, caveats, author


def bench_case(platform: Platform, seed: int, n_records: int) -> uuid.UUID:
    """One case with `n_records` records of mixed labels, agencies and types (by seed)."""
    rng = random.Random(seed * 7919 + n_records)
    writer, today = platform.system_writer, date.today()
    with platform.transaction() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        identifiers = {"pnc": f"2001/{seed:07d}B", "crn": f"B{seed:06d}"}
        nominal = add_nominal(
            session,
            writer,
            platform.indexer,
            given_name="Benchmark",
            family_name=f"Nominal{seed}",
            aliases=["B. Nominal"],
            date_of_birth=date(1985, 5, 17),
            identifiers=identifiers,
        )
        case = open_case(
            session,
            writer,
            nominal=nominal,
            reference=BENCH_REFERENCE,
            category="TERRORIST",
            phase="COMMUNITY",
            lead_agency="NSD",
            nsd_unit="North",
            ct_unit="CTP North East",
            release_date=today - timedelta(days=200),
            licence_end=today + timedelta(days=500),
            next_review=today + timedelta(days=20),
        )
        session.flush()
        start = today - timedelta(days=400)
        add_member(session, case, users["com.cole"].id, "COM", start, lead=True)
        add_member(session, case, users["nm.nash"].id, "NOMINAL_MANAGER", start)
        add_member(
            session,
            case,
            users["pom.parker"].id,
            "POM",
            start - timedelta(days=300),
            end=today - timedelta(days=200),
        )
        for name in ("honsu.hughes", "lro.lewis", "sol.santos", "mappa.morgan"):
            add_member(session, case, users[name].id, users[name].role, start, panel=True)
        import_level(
            session,
            writer,
            case,
            3,
            today - timedelta(days=200),
            "Released terrorist offender: Level 3.",
            users["honsu.hughes"].id,
        )
        import_level(
            session,
            writer,
            case,
            2,
            today - timedelta(days=10),
            "Stable; panel agreed step-down.",
            users["honsu.hughes"].id,
        )
        rows, plains, attendees = [], [], []
        for i in range(n_records):
            classification, caveats, author = _label_of(i, rng)
            rtype = "MINUTES" if classification == "SECRET" else _TYPES[i % len(_TYPES)]
            agency = users[author].agency
            rid = _uuid(rng)
            rows.append(
                {
                    "id": rid,
                    "case_id": case.id,
                    "record_type": rtype,
                    "originating_agency": agency,
                    "author_id": users[author].id,
                    "occurred_on": today - timedelta(days=rng.randint(1, 365)),
                    "created_at": utcnow(),
                    "classification": classification,
                    "caveats": caveats,
                }
            )
            marker = f" SECRET-ONLY-TEXT-{i}" if classification == "SECRET" else ""
            plains.append(
                {
                    "title": f"Bench record {i}: {rtype.replace('_', ' ').lower()}",
                    "body": f"Record {i} on the bench case. "
                    + "Observed, discussed and agreed next steps. " * 4
                    + marker,
                }
            )
            attendees.append({"record_id": rid, "agency": agency, "user_id": users[author].id})
            if rtype == "CONTACT_JOINT_VISIT":
                attendees.append(
                    {
                        "record_id": rid,
                        "agency": "CTNM" if agency != "CTNM" else "NSD",
                        "user_id": None,
                    }
                )
        keys = writer.seal_bulk(
            session,
            Record,
            rows,
            plains,
            Event(
                action="bench.generate",
                object_type="record",
                outcome="done",
                label=Classification.SECRET,
                case_id=str(case.id),
            ),
        )
        session.execute(insert(DataKey.__table__), keys)
        session.execute(insert(Record.__table__), rows)
        session.execute(insert(RecordAttendee.__table__), attendees)
        _PLAINTEXT[case.id] = {r["id"]: p for r, p in zip(rows, plains, strict=True)}
        _PLAINTEXT_NOMINAL[case.id] = ("Benchmark", f"Nominal{seed}")
        _IDENTIFIERS[case.id] = identifiers
        return case.id


# Plaintext kept by the generator (it wrote it) to fill the twins without decrypting anything.
_PLAINTEXT: dict[uuid.UUID, dict[uuid.UUID, dict[str, str]]] = {}
_PLAINTEXT_NOMINAL: dict[uuid.UUID, tuple[str, str]] = {}
_IDENTIFIERS: dict[uuid.UUID, dict[str, str]] = {}


def fill_twins(platform: Platform, case_id: uuid.UUID) -> None:
    """The bench case's rows again, in plaintext twin tables (same ids, same column values)."""
    plain = _PLAINTEXT[case_id]
    given, family = _PLAINTEXT_NOMINAL[case_id]
    with platform.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.add(
            twin.PlainNominal(
                id=case.nominal_id,
                classification="OFFICIAL-SENSITIVE",
                dob="1985-05-17",
                names=json.dumps({"given": given, "family": family, "aliases": ["B. Nominal"]}),
                identifiers=json.dumps(_IDENTIFIERS[case_id], sort_keys=True),
            )
        )
        rationale = {
            3: "Released terrorist offender: Level 3.",
            2: "Stable; panel agreed step-down.",
        }
        for change in session.scalars(
            select(MappaLevelChange).where(MappaLevelChange.case_id == case_id)
        ):
            session.add(
                twin.PlainLevelChange(
                    id=change.id,
                    case_id=case_id,
                    level=change.level,
                    effective_from=change.effective_from,
                    rationale=rationale[change.level],
                    set_by_id=change.set_by_id,
                    created_at=change.created_at,
                )
            )
        records = session.scalars(select(Record).where(Record.case_id == case_id)).all()
        session.execute(
            insert(twin.PlainRecord.__table__),
            [
                {
                    "id": r.id,
                    "case_id": r.case_id,
                    "record_type": r.record_type,
                    "originating_agency": r.originating_agency,
                    "author_id": r.author_id,
                    "occurred_on": r.occurred_on,
                    "created_at": r.created_at,
                    "classification": r.classification,
                    "caveats": r.caveats,
                    "title": plain[r.id]["title"],
                    "body": plain[r.id]["body"],
                    "supersedes_id": None,
                    "correction_reason": None,
                }
                for r in records
            ],
        )
        att = session.execute(
            select(RecordAttendee.record_id, RecordAttendee.agency, RecordAttendee.user_id)
            .join(Record, Record.id == RecordAttendee.record_id)
            .where(Record.case_id == case_id)
        ).all()
        session.execute(
            insert(twin.PlainAttendee.__table__),
            [{"record_id": a, "agency": b, "user_id": c} for a, b, c in att],
        )
