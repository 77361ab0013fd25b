"""Bulk builders for security tests: users, cases, memberships and sealed records, fast.

Records are sealed through the real access layer (SystemWriter.seal_bulk: real data keys, real AAD),
then inserted in bulk, as imports and the benchmark generator do.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shareplatform.accounts.services import NewUser, create_user
from shareplatform.audit.log import Event
from shareplatform.cases.models import Case, TeamMembership
from shareplatform.cases.services import add_nominal, open_case
from shareplatform.crypto.attested import attestor_of
from shareplatform.crypto.models import DataKey
from shareplatform.db import utcnow
from shareplatform.domain.labels import Classification
from shareplatform.platform import Platform
from shareplatform.records.models import Record, RecordAttendee


def user(
    session: Session,
    username: str,
    role: str,
    vetting: str = "SC",
    *,
    expires: date | None = None,
    nsd_unit: str | None = None,
    ct_unit: str | None = None,
    agency: str | None = None,
    name: str | None = None,
    password: str | None = None,
) -> uuid.UUID:
    expires = expires or date.today() + timedelta(days=365)
    u = create_user(
        session,
        NewUser(
            username,
            name or username.replace(".", " ").title(),
            role,
            vetting,
            expires,
            agency=agency,
            nsd_unit=nsd_unit,
            ct_unit=ct_unit,
        ),
        password,
    )
    return u.id


def case(
    platform: Platform,
    session: Session,
    reference: str,
    *,
    nsd_unit: str = "London",
    ct_unit: str = "CTP London",
    given: str = "Test",
    family: str | None = None,
    category: str = "TERRORIST",
    phase: str = "COMMUNITY",
    lead_agency: str = "NSD",
    **details: object,
) -> Case:
    """A nominal and its case, opened as the system; `details`: open_case's other keywords
    (establishment, key dates, MAPPA level...)."""
    nominal = add_nominal(
        session,
        platform.system_writer,
        platform.indexer,
        given_name=given,
        family_name=family or f"Nominal{reference.replace('-', '')}",
        identifiers={"crn": f"X{abs(hash(reference)) % 10**6:06d}"},
    )
    c = open_case(
        session,
        platform.system_writer,
        nominal=nominal,
        reference=reference,
        category=category,
        phase=phase,
        lead_agency=lead_agency,
        nsd_unit=nsd_unit,
        ct_unit=ct_unit,
        **details,  # type: ignore[arg-type]
    )
    session.flush()
    return c


def members(session: Session, rows: list[dict[str, object]]) -> None:
    """rows: case_id, user_id, capacity, panel, start_date, end_date."""
    if rows:
        stamp = attestor_of(session).stamp  # as the membership service writes them
        session.execute(
            insert(TeamMembership),
            [
                stamp(
                    TeamMembership,
                    {
                        "id": uuid.uuid4(),
                        "lead": False,
                        "created_at": utcnow(),
                        "end_date": None,
                        "panel": False,
                        **r,
                    },
                )
                for r in rows
            ],
        )


@dataclass(frozen=True)
class Spec:
    case_id: uuid.UUID
    record_type: str
    classification: str
    caveats: str
    agency: str
    occurred_on: date
    title: str
    body: str


def records(
    platform: Platform,
    session: Session,
    author_id: uuid.UUID,
    specs: list[Spec],
    event: Event | None = None,
) -> list[uuid.UUID]:
    """Seal and insert the records; one audit entry for the batch (`event`, or a SECRET one)."""
    rows = [
        {
            "id": uuid.uuid4(),
            "case_id": s.case_id,
            "record_type": s.record_type,
            "originating_agency": s.agency,
            "author_id": author_id,
            "occurred_on": s.occurred_on,
            "created_at": utcnow(),
            "classification": s.classification,
            "caveats": s.caveats,
        }
        for s in specs
    ]
    plains: list[dict[str, str | None]] = [{"title": s.title, "body": s.body} for s in specs]
    event = event or Event(
        action="test.build", object_type="record", outcome="done", label=Classification.SECRET
    )
    if len(rows) == 1 and not event.object_id:  # one record: its entry names it, as a service's
        event = dataclasses.replace(event, object_id=str(rows[0]["id"]))
    keys = platform.system_writer.seal_bulk(session, Record, rows, plains, event)
    session.execute(insert(DataKey), keys)
    session.execute(insert(Record), rows)
    session.execute(
        insert(RecordAttendee),
        [
            {"record_id": r["id"], "agency": r["originating_agency"], "user_id": author_id}
            for r in rows
        ],
    )
    return [r["id"] for r in rows]  # type: ignore[misc]


@dataclass(frozen=True)
class Small:
    """One case in the North units with a HoNSU on its panel, a COM on its team and six records."""

    case_id: uuid.UUID
    honsu: str
    com: str
    secret_ids: list[uuid.UUID]
    official_ids: list[uuid.UUID]


def small_world(platform: Platform, prefix: str = "s") -> Small:
    today = date.today()
    with platform.transaction() as s:
        honsu = user(s, f"{prefix}.honsu", "HONSU", "SC", nsd_unit="North")
        com = user(s, f"{prefix}.com", "COM", "SC", nsd_unit="North")
        c = case(platform, s, f"{prefix.upper()}-1", nsd_unit="North", ct_unit="CTP North East")
        members(
            s,
            [
                {
                    "case_id": c.id,
                    "user_id": honsu,
                    "capacity": "HONSU",
                    "panel": True,
                    "start_date": today - timedelta(days=50),
                },
                {
                    "case_id": c.id,
                    "user_id": com,
                    "capacity": "COM",
                    "start_date": today - timedelta(days=50),
                },
            ],
        )
        specs = [
            Spec(
                c.id,
                "MINUTES",
                "SECRET",
                "",
                "NSD",
                today - timedelta(days=n + 1),
                f"Secret minute {n}",
                f"SECRET-ONLY-TEXT-{n}: the closed session decided to act.",
            )
            for n in range(3)
        ]
        specs += [
            Spec(
                c.id,
                "CONTACT_OFFICE",
                "OFFICIAL-SENSITIVE",
                "",
                "NSD",
                today - timedelta(days=n + 10),
                f"Office contact {n}",
                f"Plain office contact {n}.",
            )
            for n in range(3)
        ]
        ids = records(platform, s, honsu, specs)
    return Small(c.id, f"{prefix}.honsu", f"{prefix}.com", ids[:3], ids[3:])
