"""Test data from factories with traits: users, cases with their team and panel, and records.

Each factory writes real rows through the product's own services and the real crypto (a user by
`create_user`/`set_totp`, a nominal and case by `add_nominal`/`open_case` as the system writer,
memberships by `add_member`, records sealed by the system writer under real data keys), reusing
the bulk builders in tests/security/builders.py. Traits are keyword arguments; anything left out
gets a sensible default, so a test names only what its assertions depend on:

    with platform.transaction() as s:
        com = user(platform, s, "com.cole", role="COM", nsd_unit="North")
        honsu = user(platform, s, role="HONSU", vetting="DV", nsd_unit="North")
        c = case(platform, s, "SP-1", nsd_unit="North", team=[(com, "COM")],
                 panel=[(honsu, "HONSU")])
        record(platform, s, c.id, honsu, label="SECRET", body="SECRET-ONLY-TEXT")

Users are enrolled with the shared second-factor secret `TOTP` unless told otherwise; a user who
signs in through the web also needs `password=PASSWORD` (tests/support/web.py signs in with both;
hashing a password is slow, so users get none unless asked). The platform builders
(fresh_platform, app_for, ctx_for...) live in tests/factories.py and are re-exported here.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy.orm import Session

from shareplatform.accounts.models import User
from shareplatform.accounts.services import set_totp
from shareplatform.audit.log import Event
from shareplatform.cases.models import Case
from shareplatform.cases.services import add_member, import_level
from shareplatform.domain.agencies import Agency
from shareplatform.domain.cases import Phase, RecordType
from shareplatform.domain.labels import Classification, Label
from shareplatform.platform import Platform
from shareplatform.records.models import Record, RecordAttendee
from tests.factories import (
    DEMO_PASSWORD,
    DEMO_TOTP,
    app_for,
    ctx_for,
    fresh_platform,
    make_config,
)
from tests.security import builders

__all__ = [
    "PASSWORD",
    "TOTP",
    "Member",
    "app_for",
    "case",
    "ctx_for",
    "fresh_platform",
    "make_config",
    "record",
    "user",
]

PASSWORD = DEMO_PASSWORD
TOTP = DEMO_TOTP
MEMBERS_SINCE = 400  # days: memberships start well before anything a test dates

_serial = itertools.count(1)


def _next() -> int:
    return next(_serial)


def _id(who: User | uuid.UUID) -> uuid.UUID:
    return who.id if isinstance(who, User) else who


# -- users --------------------------------------------------------------------------------------
def user(
    platform: Platform,
    session: Session,
    username: str | None = None,
    *,
    role: str = "COM",
    vetting: str = "SC",
    expires: date | None = None,
    nsd_unit: str | None = None,
    ct_unit: str | None = None,
    agency: str | None = None,
    name: str | None = None,
    password: str | None = None,
    totp: str | None = TOTP,
) -> User:
    """A user through create_user (agency derived from the role unless given; vetting valid for a
    year unless `expires` says otherwise, which may be in the past).

    `password=PASSWORD`: can sign in through the web (default: no password, cannot sign in);
    `totp=None`: not enrolled (must set up a second factor at first sign-in).
    """
    username = username or f"{role.lower().replace('_', '-')}.{_next()}"
    uid = builders.user(
        session,
        username,
        role,
        vetting,
        expires=expires,
        nsd_unit=nsd_unit,
        ct_unit=ct_unit,
        agency=agency,
        name=name,
        password=password,
    )
    made = session.get(User, uid)
    assert made is not None
    if totp is not None:
        set_totp(session, platform.service_secrets, made, totp)
    session.flush()
    return made


# -- cases --------------------------------------------------------------------------------------
class Member(NamedTuple):
    """A team or panel place: who, in what capacity (a role), from when until when."""

    who: User | uuid.UUID
    capacity: str
    start: date | None = None  # default: MEMBERS_SINCE days ago
    end: date | None = None  # default: still on the case
    lead: bool = False


def case(
    platform: Platform,
    session: Session,
    reference: str | None = None,
    *,
    team: Iterable[Member | Sequence[object]] = (),
    panel: Iterable[Member | Sequence[object]] = (),
    nsd_unit: str = "North",
    ct_unit: str = "CTP North East",
    phase: str = "COMMUNITY",
    category: str = "TERRORIST",
    lead_agency: str | None = None,
    levels: Iterable[tuple[int, date, str, User | uuid.UUID]] = (),
    given: str = "Test",
    family: str | None = None,
    **details: object,
) -> Case:
    """A nominal and its case (opened as the system), its team and MAPPA panel.

    team / panel: Member(who, capacity, start, end, lead) or a plain tuple in that order, e.g.
    `team=[(com, "COM")]`, `panel=[(honsu, "HONSU")]`. The lead agency follows the phase (the
    prison in custody, probation after) unless given. levels: MAPPA level history as
    (level, effective from, rationale, set by), imported in order (the last sets the case's
    level). details: open_case's other keywords (establishment, release_date, licence_end,
    sentence_end, next_review, mappa_level, mappa_category).
    """
    reference = reference or f"TF-{_next():04d}"
    if lead_agency is None:
        lead_agency = "PRISON" if Phase.parse(phase) is Phase.CUSTODY else "NSD"
    c = builders.case(
        platform,
        session,
        reference,
        nsd_unit=nsd_unit,
        ct_unit=ct_unit,
        given=given,
        family=family,
        category=category,
        phase=phase,
        lead_agency=lead_agency,
        **details,
    )
    since = date.today() - timedelta(days=MEMBERS_SINCE)
    for places, on_panel in ((team, False), (panel, True)):
        for place in places:
            m = place if isinstance(place, Member) else Member(*place)  # type: ignore[arg-type]
            add_member(
                session,
                c,
                _id(m.who),
                m.capacity,
                m.start or since,
                panel=on_panel,
                lead=m.lead,
                end=m.end,
            )
    for level, effective_from, rationale, set_by in levels:
        import_level(
            session, platform.system_writer, c, level, effective_from, rationale, _id(set_by)
        )
    session.flush()
    return c


# -- records ------------------------------------------------------------------------------------
def record(
    platform: Platform,
    session: Session,
    case_id: uuid.UUID,
    author: User | uuid.UUID,
    *,
    label: str = "OFFICIAL-SENSITIVE",
    orcon: bool = False,
    caveats: Iterable[str] = (),
    record_type: str = "CONTACT_OFFICE",
    agency: str | None = None,
    occurred_on: date | None = None,
    title: str | None = None,
    body: str | None = None,
    joint: Iterable[str] = (),
) -> Record:
    """One record sealed by the system writer (real data key, real associated data), audited as
    "record.create" at the record's label on its case.

    The label and type are checked by the domain's rules; caveats are stored as the product stores
    them (`orcon=True` adds ORCON). The originating agency is the author's unless given; `joint`
    adds the other attending agencies. A SECRET record's default body carries SECRET-ONLY-TEXT,
    so a test can look for it where it must not appear.
    """
    author_id = _id(author)
    written_by = session.get(User, author_id)
    assert written_by is not None, author_id
    rtype = RecordType.parse(record_type)
    marked = Label.of(label, [*caveats, *(["ORCON"] if orcon else [])])
    rtype.check_label(marked.classification)
    origin = Agency.parse(agency or written_by.agency).value
    n = _next()
    title = title or f"{rtype.title} {n}"
    if body is None:
        body = (
            f"SECRET-ONLY-TEXT-{n}: decided in the closed session."
            if marked.classification is Classification.SECRET
            else f"{rtype.title} {n}: nothing of concern."
        )
    spec = builders.Spec(
        case_id,
        rtype.value,
        marked.classification.marking,
        marked.caveat_text(),
        origin,
        occurred_on or date.today(),
        title,
        body,
    )
    event = Event(
        action="record.create",
        object_type="record",
        outcome="done",
        label=marked.classification,
        case_id=str(case_id),
        detail={"type": rtype.value, "factory": True},
    )
    [rid] = builders.records(platform, session, author_id, [spec], event)
    for other in joint:
        other_agency = Agency.parse(other).value
        if other_agency != origin:
            session.add(RecordAttendee(record_id=rid, agency=other_agency))
    session.flush()
    made = session.get(Record, rid)
    assert made is not None
    return made
