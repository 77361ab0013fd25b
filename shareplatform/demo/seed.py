"""Demonstration data (`demo seed`): users of every role, cases, records and a decision log."""

from __future__ import annotations

import random
import secrets as pysecrets
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pyotp
from sqlalchemy import func, select

from ..accounts.models import User
from ..accounts.services import NewUser, create_user, set_totp, totp_secret
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import add_member, add_nominal, import_level, open_case
from ..db import get_meta, set_meta
from ..domain.agencies import Role
from ..domain.labels import Classification
from ..platform import Platform
from ..records.models import Record, RecordAttendee

# (username, name, role, vetting, nsd unit, ct unit): every role of docs/domain.md,
# corridor and frontline.
DEMO_USERS = [
    ("pom.parker", "Priya Parker", "POM", "CTC", None, None),
    ("pom.quinn", "Quentin Quinn", "POM", "BPSS", None, None),
    ("keyworker.khan", "Kamal Khan", "KEYWORKER", "BPSS", None, None),
    ("governor.grey", "Gillian Grey", "GOVERNOR", "SC", None, None),
    ("security.shah", "Sanjay Shah", "HEAD_OF_SECURITY", "SC", None, None),
    ("ppl.patel", "Pooja Patel", "PRISON_PREVENT_LEAD", "CTC", None, None),
    ("com.cole", "Chris Cole", "COM", "SC", "North", None),
    ("com.evans", "Erin Evans", "COM", "BPSS", "North", None),
    ("pp.price", "Paul Price", "PROBATION_PRACTITIONER", "BPSS", "North", None),
    ("spp.singh", "Simran Singh", "SPECIALIST_PRACTITIONER", "CTC", "North", None),
    ("sol.santos", "Sofia Santos", "SOL", "SC", "North", None),
    ("honsu.hughes", "Helen Hughes", "HONSU", "DV", "North", None),
    ("honsu.lambert", "Leo Lambert", "HONSU", "SC", "London", None),
    ("psych.ali", "Amira Ali", "PSYCHOLOGIST", "CTC", "North", None),
    ("polygraph.pike", "Peter Pike", "POLYGRAPH_EXAMINER", "CTC", "North", None),
    ("mappa.morgan", "Megan Morgan", "MAPPA_ADMIN", "BPSS", "North", None),
    ("nm.nash", "Nadia Nash", "NOMINAL_MANAGER", "SC", None, "CTP North East"),
    ("support.stone", "Sam Stone", "CT_SUPPORT_STAFF", "CTC", None, "CTP North East"),
    ("ds.dean", "Daniel Dean", "NM_SUPERVISOR", "SC", None, "CTP North East"),
    ("di.irwin", "Isla Irwin", "NM_LEAD", "SC", None, "CTP North East"),
    ("lro.lewis", "Lewis Lowe", "LRO", "DV", None, "CTP North East"),
    ("ctpio.carter", "Carla Carter", "CTPIO", "SC", None, "CTP North East"),
    ("pct.palmer", "Piers Palmer", "PCT_LEAD", "SC", None, None),
    ("rctl.reid", "Rosa Reid", "RCTL", "SC", None, None),
    ("policy.admin", "Pat Adeyemi", "POLICY_ADMIN", "SC", None, None),
    ("policy.admin2", "Robin Okafor", "POLICY_ADMIN", "SC", None, None),
    ("user.admin", "Uma Adler", "USER_ADMIN", "BPSS", None, None),
    ("auditor.adams", "Alex Adams", "AUDITOR", "BPSS", None, None),
    ("com.expired", "Evan Expired", "COM", "SC", "North", None),
]

GIVEN = [
    "Adam",
    "Bilal",
    "Callum",
    "Dawud",
    "Ethan",
    "Faisal",
    "Gareth",
    "Hamza",
    "Imran",
    "Jack",
    "Kyle",
    "Liam",
    "Mohammed",
    "Nathan",
    "Omar",
    "Patrick",
    "Rhys",
    "Samir",
    "Thomas",
    "Usman",
    "Viktor",
    "Wes",
]
FAMILY = [
    "Abbott",
    "Bashir",
    "Clarke",
    "Dunn",
    "Ellis",
    "Farooq",
    "Gill",
    "Hussain",
    "Iqbal",
    "Jones",
    "Kelly",
    "Lees",
    "Malik",
    "Noor",
    "Owens",
    "Powell",
    "Rahman",
    "Shaw",
    "Tate",
    "Usher",
    "Vance",
    "Webb",
]
ESTABLISHMENTS = [
    "HMP Frankland",
    "HMP Full Sutton",
    "HMP Belmarsh",
    "HMP Whitemoor",
    "HMP Long Lartin",
    "HMP Woodhill",
]
NOTES = {
    "CONTACT_OFFICE": (
        "Office appointment",
        "Attended on time. Discussed employment, accommodation and licence conditions. No "
        "concerns raised about compliance.",
    ),
    "CONTACT_HOME_VISIT": (
        "Home visit",
        "Unannounced home visit. Address consistent with approved accommodation. Devices "
        "present as declared.",
    ),
    "CONTACT_JOINT_VISIT": (
        "Joint home visit with police",
        "Joint visit by probation and the CTNM nominal manager. Reviewed notification "
        "requirements and travel plans.",
    ),
    "CONTACT_PHONE": (
        "Phone contact",
        "Brief call to confirm next appointment and discuss a change of employer.",
    ),
    "ASSESSMENT_ERG": (
        "ERG 22+ assessment",
        "Engagement, intent and capability factors reviewed. Identity and belonging needs "
        "remain significant.",
    ),
    "ASSESSMENT_PGF": (
        "Pathfinder Guidance Framework",
        "PGF completed following prison conduct reports; risk assessed as moderate and stable.",
    ),
    "ASSESSMENT_OASYS": (
        "OASys review",
        "Risk of serious harm: high to the public. Protective factors noted: family contact, work.",
    ),
    "ENQUIRY_DOMESTIC_ABUSE": (
        "Domestic abuse enquiry",
        "Police domestic abuse checks completed: no recorded call-outs at the proposed address.",
    ),
    "ENQUIRY_CHILD_SAFEGUARDING": (
        "Child safeguarding enquiry",
        "Children's services contacted: no open involvement with children at the address.",
    ),
    "PLAN_RISK_MANAGEMENT": (
        "Risk management plan review",
        "Supervision twice weekly; monitoring via GPS tag; interventions with the "
        "psychologist; victim safety planning in place.",
    ),
    "MINUTES": (
        "Core group minutes (open part)",
        "Core group reviewed progress against MAPPA actions. Next core group in four weeks.",
    ),
}
SECRET_NOTES = [
    (
        "Closed session note",
        "Disclosure received under the sterile corridor. Decision: increase unannounced "
        "visits; review in 14 days.",
    ),
    (
        "Secret briefing summary",
        "Briefing from CT Policing about associates; the intelligence stays with the originator.",
    ),
]


@dataclass
class SeedResult:
    users: list[tuple[str, str, bool]] = field(default_factory=list)
    password: str = ""
    totp_secret: str = ""
    nominals: int = 0
    records: int = 0

    def summary(self) -> str:
        lines = [
            f"Demo data created: {len(self.users)} users, {self.nominals} nominals, "
            f"{self.records} records.",
            "",
            "Demo sign-in (shown once; every demo user shares these):",
            f"  password:          {self.password}",
            f"  second factor key: {self.totp_secret}",
            "  (or run: flask --app wsgi demo code USERNAME   to print the current 6-digit code)",
            "",
            f"{'username':<18} {'role':<36} corridor",
        ]
        lines += [f"{u:<18} {r:<36} {'yes' if c else 'no'}" for u, r, c in self.users]
        return "\n".join(lines)


def seed(
    platform: Platform,
    password: str | None = None,
    totp_secret: str | None = None,
    if_empty: bool = False,
    today: date | None = None,
) -> SeedResult | None:
    today = today or date.today()
    rng = random.Random(20230711)  # the inspection's publication date: deterministic demo content
    writer = platform.system_writer
    indexer = platform.indexer
    password = password or pysecrets.token_urlsafe(12)
    totp_secret = totp_secret or pyotp.random_base32()
    result = SeedResult(password=password, totp_secret=totp_secret)
    with platform.transaction() as session:
        if session.scalar(select(func.count()).select_from(User)):
            if if_empty:
                return None
            raise RuntimeError(
                "the database already holds users: demo seed needs an empty instance"
            )
        set_meta(session, "demo", "true")
        service_secrets = platform.service_secrets
        users: dict[str, User] = {}
        for username, name, role, vetting, nsd, ctu in DEMO_USERS:
            expires = (
                today - timedelta(days=12)
                if username == "com.expired"
                else today + timedelta(days=rng.randint(20, 900))
            )
            user = create_user(
                session,
                NewUser(username, name, role, vetting, expires, nsd_unit=nsd, ct_unit=ctu),
                password,
            )
            set_totp(session, service_secrets, user, totp_secret)
            users[username] = user
            result.users.append((username, Role(role).title, Role(role).in_corridor))
        writer.record(
            session,
            Event(
                action="demo.seed",
                object_type="user",
                outcome="done",
                label=Classification.OFFICIAL,
                detail={"users": len(users)},
            ),
        )
        phases = ["CUSTODY", "COMMUNITY", "POST_SENTENCE"]
        categories = [
            "TERRORIST",
            "TERRORIST_CONNECTED",
            "TERRORIST_RISK",
            "CRITICAL_PUBLIC_PROTECTION",
        ]
        for i in range(30):
            given, family = GIVEN[i % len(GIVEN)], FAMILY[(i * 7) % len(FAMILY)]
            nominal = add_nominal(
                session,
                writer,
                indexer,
                given_name=given,
                family_name=family,
                aliases=[f"{given[0]}. {family}"] if i % 3 == 0 else [],
                date_of_birth=date(1975 + i % 25, 1 + i % 12, 1 + i % 27),
                identifiers={
                    "pnc": f"{2000 + i:04d}/{100000 + i * 37:07d}A",
                    "cro": f"{10000 + i}/{90 + i % 10}B",
                    "nomis": f"A{1000 + i}BC",
                    "crn": f"X{300000 + i}",
                    "visor": f"V{700000 + i}",
                },
            )
            phase = phases[i % 3]
            london = i >= 26  # a few cases in another unit, outside the North's oversight
            case = open_case(
                session,
                writer,
                nominal=nominal,
                reference=f"SP-{1001 + i}",
                category=categories[i % 4],
                phase=phase,
                lead_agency="PRISON" if phase == "CUSTODY" else "NSD",
                nsd_unit="London" if london else "North",
                ct_unit="CTP London" if london else "CTP North East",
                establishment=ESTABLISHMENTS[i % len(ESTABLISHMENTS)]
                if phase == "CUSTODY"
                else None,
                release_date=today + timedelta(days=30 + i * 9)
                if phase == "CUSTODY"
                else today - timedelta(days=100 + i * 11),
                licence_end=today + timedelta(days=400 + i * 20),
                sentence_end=today + timedelta(days=900 + i * 15),
                next_review=today + timedelta(days=10 + i * 3),
                mappa_level=3 if i % 4 else 2,
            )
            session.flush()
            _demo_team(session, case, users, i, today, london)
            import_level(
                session,
                writer,
                case,
                3,
                today - timedelta(days=400),
                "Terrorist case: Level 3 for at least 12 months after release (HMPPS policy).",
                users["honsu.hughes"].id,
            )
            if i % 4 == 0:
                import_level(
                    session,
                    writer,
                    case,
                    2,
                    today - timedelta(days=20),
                    "Stable for 12 months with all risk management in place; panel agreed "
                    "step-down to Level 2 (rec 4).",
                    users["honsu.hughes"].id,
                )
            result.records += _demo_records(session, writer, case, users, rng, today, i)
            result.nominals += 1
            if i == 0:
                session.flush()
                _demo_decision_log(platform, session, case, users, today)
    return result


def _demo_team(
    session, case: Case, users: dict[str, User], i: int, today: date, london: bool
) -> None:
    start = today - timedelta(days=500)
    if case.phase == "CUSTODY":
        add_member(
            session,
            case,
            users["pom.parker" if i % 2 == 0 else "pom.quinn"].id,
            "POM",
            start,
            lead=True,
        )
        add_member(session, case, users["keyworker.khan"].id, "KEYWORKER", start)
        add_member(
            session, case, users["com.cole"].id, "COM", today - timedelta(days=60)
        )  # pre-release handover
    else:
        # POM to COM handover: the POM's membership ended at release
        add_member(
            session, case, users["pom.parker"].id, "POM", start, end=today - timedelta(days=90)
        )
        add_member(
            session,
            case,
            users["com.cole" if i % 2 == 0 else "com.evans"].id,
            "COM",
            today - timedelta(days=89),
            lead=True,
        )
    add_member(session, case, users["com.expired"].id, "COM", start) if i == 1 else None
    add_member(session, case, users["nm.nash"].id, "NOMINAL_MANAGER", start)
    if i % 5 == 0:
        for name, cap in (
            ("pp.price", "PROBATION_PRACTITIONER"),
            ("spp.singh", "SPECIALIST_PRACTITIONER"),
            ("psych.ali", "PSYCHOLOGIST"),
            ("polygraph.pike", "POLYGRAPH_EXAMINER"),
            ("support.stone", "CT_SUPPORT_STAFF"),
            ("ctpio.carter", "CTPIO"),
            ("ppl.patel", "PRISON_PREVENT_LEAD"),
        ):
            add_member(session, case, users[name].id, cap, start)
    panel = [
        "lro.lewis",
        "sol.santos",
        "mappa.morgan",
        "governor.grey",
        "security.shah",
        "pct.palmer",
        "rctl.reid",
    ]
    panel.insert(0, "honsu.lambert" if london else "honsu.hughes")
    for name in panel:
        add_member(session, case, users[name].id, users[name].role, start, panel=True)


def _demo_records(
    session, writer, case: Case, users: dict[str, User], rng: random.Random, today: date, i: int
) -> int:
    authors = {"PRISON": users["pom.parker"], "NSD": users["com.cole"], "CTNM": users["nm.nash"]}
    n = 0
    for j, (rtype, (title, body)) in enumerate(NOTES.items()):
        agency = ("NSD", "PRISON", "CTNM")[(i + j) % 3]
        if rtype == "CONTACT_JOINT_VISIT":
            agency = "NSD"
        label, caveats = ("OFFICIAL", "") if j % 4 == 0 else ("OFFICIAL-SENSITIVE", "")
        if j % 5 == 2:
            caveats = "ORCON"
        if j % 7 == 3:
            caveats = "PERSONAL" if j % 2 else "UK EYES ONLY"
        occurred = today - timedelta(days=rng.randint(1, 300))
        _demo_record(
            session,
            writer,
            case,
            authors[agency],
            agency,
            rtype,
            label,
            caveats,
            occurred,
            f"{title} ({case.reference})",
            body,
            ["CTNM"] if rtype == "CONTACT_JOINT_VISIT" else [],
        )
        n += 1
    # rec 20: a current home-visit risk assessment, so police visits can be recorded on every case
    _demo_record(
        session,
        writer,
        case,
        authors["CTNM"],
        "CTNM",
        "ASSESSMENT_HOME_VISIT_RISK",
        "OFFICIAL-SENSITIVE",
        "",
        today - timedelta(days=3),
        f"Home-visit risk assessment ({case.reference})",
        "Address checked; no dogs or weapons reported; two officers to attend; control room "
        "informed.",
        [],
    )
    n += 1
    for k, (title, body) in enumerate(SECRET_NOTES):
        occurred = today - timedelta(days=rng.randint(1, 200))
        caveats = "ORCON" if k == 1 else ""
        author = users["honsu.hughes"] if k == 0 else users["lro.lewis"]
        _demo_record(
            session,
            writer,
            case,
            author,
            author.agency,
            "MINUTES",
            "SECRET",
            caveats,
            occurred,
            f"{title} ({case.reference})",
            body + f" Case {case.reference}: SECRET-ONLY-TEXT-{case.reference}-{k}.",
            [],
        )
        n += 1
    return n


def _demo_record(
    session, writer, case, author, agency, rtype, label, caveats, occurred, title, body, joint
) -> Record:
    record = Record(
        id=uuid.uuid4(),
        case_id=case.id,
        record_type=rtype,
        originating_agency=agency,
        author_id=author.id,
        occurred_on=occurred,
        classification=label,
        caveats=caveats,
    )
    writer.seal(
        session,
        record,
        {"title": title, "body": body},
        Event(
            action="record.create",
            object_type="record",
            outcome="done",
            label=Classification.parse(label),
            object_id=str(record.id),
            case_id=str(case.id),
            detail={"demo": True},
        ),
    )
    session.flush()
    session.add(RecordAttendee(record_id=record.id, agency=agency, user_id=author.id))
    for other in joint:
        session.add(RecordAttendee(record_id=record.id, agency=other))
    return record


def _demo_decision_log(
    platform: Platform, session, case: Case, users: dict[str, User], today: date
) -> None:
    """Recommendation 1 in the demo: a Reveal meeting, a secret disclosure, a signed decision with
    two actions, one released to the frontline owner as a sanitised break-out."""
    from datetime import UTC, datetime

    from ..context import Ctx
    from ..mappa import services as mappa

    honsu, lro = users["honsu.hughes"], users["lro.lewis"]
    ctx = Ctx(
        session,
        platform.access,
        platform.access.subject(session, honsu, today),
        platform.indexer,
        today,
    )
    meeting = mappa.record_meeting(
        ctx,
        case.id,
        mappa.NewMeeting(
            "REVEAL",
            today - timedelta(days=6),
            honsu.id,
            lro.id,
            [
                mappa.Attendee("NSD", "HONSU", user_id=honsu.id, closed_part=True),
                mappa.Attendee("CTNM", "LRO", user_id=lro.id, closed_part=True),
                mappa.Attendee("NSD", "SOL", user_id=users["sol.santos"].id, closed_part=True),
                mappa.Attendee("PRISON", "POM", user_id=users["pom.parker"].id),
            ],
            "Open part: release planning reviewed; approved premises confirmed; licence "
            "conditions agreed in principle.",
            "Closed part: CT Policing briefed the corridor on associates. "
            f"SECRET-ONLY-TEXT-{case.reference}-mappa.",
            next_review=today + timedelta(days=28),
        ),
    )
    disclosure = mappa.record_disclosure(
        ctx,
        case.id,
        mappa.NewDisclosure(
            "CT_POLICING",
            "CTP-NE/4471",
            honsu.id,
            datetime.now(UTC) - timedelta(days=6),
            handling="No onward disclosure without the originator's consent.",
            summary=(
                "Reference only: intelligence about contact with a known extremist. "
                f"SECRET-ONLY-TEXT-{case.reference}-disclosure."
            ),
            meeting_id=meeting.id,
        ),
    )
    data = mappa.NewDecision(
        meeting.id,
        [disclosure.id],
        "Increase unannounced home visits to weekly and add a non-contact condition. "
        f"SECRET-ONLY-TEXT-{case.reference}-decision.",
        "The disclosure indicates renewed contact; weekly visits give early warning while the "
        "condition is sought.",
        options=(
            "1. No change (rejected). 2. Recall (disproportionate). 3. Increased visits "
            "and a new condition (agreed)."
        ),
        caveats=("ORCON",),
        actions=[
            mappa.NewAction(
                "Weekly unannounced visits because of the disclosure. "
                f"SECRET-ONLY-TEXT-{case.reference}-action.",
                users["com.cole"].id,
                today + timedelta(days=5),
                mappa.NewBreakout(
                    "Carry out weekly unannounced home visits for the next 8 weeks and report "
                    "any visitors.",
                    consent_from="CTP North East intelligence manager",
                    consent_on=today - timedelta(days=5),
                ),
            ),
            mappa.NewAction(
                "Apply to the parole board for a non-contact licence condition.",
                lro.id,
                today + timedelta(days=1),
            ),
        ],
    )
    mappa.record_decision(ctx, case.id, data, mappa.prepare_decision(ctx, case.id, data).token)


def current_code(platform: Platform, username: str) -> str:
    with platform.transaction() as session:
        if get_meta(session, "demo") != "true":
            raise PermissionError(
                "this instance was not created as a demo: second-factor codes are not shown"
            )
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise PermissionError(f"no demo user {username!r}")
        secret = totp_secret(platform.service_secrets, user)
        if secret is None:
            raise PermissionError(f"{username} has not enrolled a second factor")
        return pyotp.TOTP(secret).now()
