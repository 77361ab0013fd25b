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
# Records as practitioners write them, per phase. In custody the contacts are the POM's sessions,
# keywork and the legal visits security logs; home and joint visits happen only in the community.
CUSTODY_NOTES = {
    "CONTACT_OFFICE:pom": (
        "POM session",
        "Seen on the wing for a planned POM session. Talked through the sentence plan and his "
        "application for the education course. He said he is keeping to himself on the landing "
        "and has not been to Friday prayers for two weeks; I will ask the chaplaincy to check in.",
    ),
    "CONTACT_OFFICE:keyworker": (
        "Keywork session",
        "Weekly keywork session in his cell. Settled, polite, asked about family visits over the "
        "holidays. No adjudications this month. Encouraged him to keep attending the gym rota.",
    ),
    "CONTACT_OFFICE:security": (
        "Legal visit",
        "Legal visit with his solicitor in the legal visits hall, 1 hour. Security noted the visit "
        "on the log as routine; no items passed and no concerns from the visits officer.",
    ),
    "ASSESSMENT_ERG": (
        "ERG 22+ assessment",
        "Completed with the psychologist over three sessions. Engagement factors: need for "
        "identity and status remain significant. Intent: no current evidence. Capability: limited "
        "while in custody. Recommend he continues one-to-one work before release.",
    ),
    "ASSESSMENT_PGF:pom": (
        "Pathfinder Guidance Framework",
        "PGF reviewed after two conduct reports in the last quarter (refusing to attend work). "
        "Risk of re-engaging assessed as moderate and stable; stays on the Pathfinder caseload.",
    ),
    "ASSESSMENT_OASYS": (
        "OASys review",
        "Pre-release OASys. Risk of serious harm: high to the public in the community, medium in "
        "custody. Protective factors: regular contact with his sister and steady work in the "
        "prison laundry.",
    ),
    "ENQUIRY_DOMESTIC_ABUSE": (
        "Domestic abuse enquiry",
        "Police checks requested for the proposed release address (his sister's): no domestic "
        "abuse call-outs recorded there.",
    ),
    "ENQUIRY_CHILD_SAFEGUARDING": (
        "Child safeguarding enquiry",
        "Children's services contacted about the release address: two children live there; no "
        "open involvement. The COM will discuss the address at the pre-release meeting.",
    ),
    "PLAN_SENTENCE:pom": (
        "Sentence plan review",
        "Targets agreed: complete the Healthy Identity Intervention, keep the laundry job, and "
        "maintain family contact through social visits. Review in three months.",
    ),
    "MINUTES": (
        "Pre-release planning meeting (open part)",
        "POM, COM and the nominal manager met to plan release. Approved premises place requested; "
        "licence conditions drafted; next meeting in four weeks.",
    ),
}
COMMUNITY_NOTES = {
    "CONTACT_OFFICE": (
        "Office appointment",
        "Reported on time. Discussed his job search and the tenancy at the approved address; he "
        "has an interview at a warehouse next week. Reminded him of the condition to declare new "
        "phones. No compliance concerns.",
    ),
    "CONTACT_HOME_VISIT": (
        "Home visit",
        "Unannounced home visit at the approved address. He was in with his mother. The room was "
        "tidy; the one phone and laptop seen were those declared. No visitors present.",
    ),
    "CONTACT_JOINT_VISIT": (
        "Joint home visit with police",
        "Joint visit with the nominal manager. Went through the notification requirements and "
        "his plan to visit family in Leeds; he will notify the travel seven days ahead.",
    ),
    "CONTACT_PHONE": (
        "Phone contact",
        "Short call to move Thursday's appointment to Friday because of his new shift pattern. "
        "He sounded settled.",
    ),
    "ASSESSMENT_ERG": (
        "ERG 22+ review",
        "Reviewed in the community. Identity and belonging needs still significant but he is "
        "building a life through work and family. No evidence of renewed intent.",
    ),
    "ASSESSMENT_OASYS": (
        "OASys review",
        "Risk of serious harm: high to the public. Protective factors: stable address, family "
        "support and the new job. Risk stays high while his licence is in its first year.",
    ),
    "ENQUIRY_DOMESTIC_ABUSE": (
        "Domestic abuse enquiry",
        "Police checks on the new partner's address: no domestic abuse call-outs recorded.",
    ),
    "ENQUIRY_CHILD_SAFEGUARDING": (
        "Child safeguarding enquiry",
        "Children's services contacted: no open involvement with children at the address.",
    ),
    "PLAN_RISK_MANAGEMENT": (
        "Risk management plan review",
        "Office reporting twice a week; GPS tag in place until the end of the exclusion zone "
        "condition; one-to-one sessions with the psychologist; victim safety plan unchanged.",
    ),
    "MINUTES": (
        "Core group minutes (open part)",
        "Core group reviewed progress against the MAPPA actions: all on track. Next core group "
        "in four weeks.",
    ),
}


def demo_name(i: int) -> tuple[str, str]:
    """The i-th demo nominal's given and family names."""
    return GIVEN[i % len(GIVEN)], FAMILY[(i * 7) % len(FAMILY)]


def secret_notes(case: Case, name: str) -> list[tuple[str, str]]:
    """The two SECRET minutes on a case, written as the corridor would, unique to the case."""
    where = "on the wing" if case.phase == "CUSTODY" else "since release"
    return [
        (
            "Closed session note",
            f"Closed session on {case.reference}. CT Policing told the corridor that {name} has "
            f"been in contact {where} with a man they are investigating. Agreed: keep the source "
            "protected; review the risk management plan within 14 days.",
        ),
        (
            "Secret briefing summary",
            f"Briefing from the CT Policing intelligence manager about {name}'s associates "
            f"({case.reference}). The intelligence stays with the originator; nothing from it "
            "goes into open records.",
        ),
    ]


@dataclass(frozen=True)
class SecretItem:
    """One SECRET object the seed wrote: what it is, its id, its case, and its text."""

    kind: str  # "record", "meeting_closed", "disclosure", "decision", "action"
    id: uuid.UUID
    case_reference: str
    text: str


@dataclass
class SeedResult:
    users: list[tuple[str, str, bool]] = field(default_factory=list)
    password: str = ""
    totp_secret: str = ""
    nominals: int = 0
    records: int = 0
    # every SECRET object written, so that tests find SECRET material by label and id
    secret: list[SecretItem] = field(default_factory=list)

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
            given, family = demo_name(i)
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
            result.records += _demo_records(
                session, writer, case, users, rng, today, i, f"{given} {family}", result.secret
            )
            result.nominals += 1
            if i == 0:
                session.flush()
                result.secret += _demo_decision_log(platform, session, case, users, today)
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


# Who writes each kind of record: "TYPE:who" keys name the writer; others follow the agency.
WRITERS = {
    "pom": "PRISON",
    "keyworker": "PRISON",
    "security": "PRISON",
}
AGENCY_OF = {  # the agency that writes a record type, by phase
    "CUSTODY": {
        "ASSESSMENT_ERG": "PRISON",
        "ASSESSMENT_OASYS": "PRISON",
        "ENQUIRY_DOMESTIC_ABUSE": "CTNM",
        "ENQUIRY_CHILD_SAFEGUARDING": "NSD",
        "MINUTES": "NSD",
    },
    "COMMUNITY": {"ENQUIRY_DOMESTIC_ABUSE": "CTNM"},
}


def _writer(case: Case, key: str, users: dict[str, User], i: int) -> tuple[str, User, str]:
    """The record type, author and agency for a note key ("TYPE" or "TYPE:who")."""
    rtype, _, who = key.partition(":")
    pom = users["pom.parker" if i % 2 == 0 else "pom.quinn"]
    com = users["com.cole" if i % 2 == 0 or case.phase == "CUSTODY" else "com.evans"]
    people = {"pom": pom, "keyworker": users["keyworker.khan"], "security": users["security.shah"]}
    if who:
        return rtype, people[who], WRITERS[who]
    phase = "CUSTODY" if case.phase == "CUSTODY" else "COMMUNITY"
    agency = AGENCY_OF[phase].get(rtype, "NSD")
    author = {"PRISON": pom, "NSD": com, "CTNM": users["nm.nash"]}[agency]
    return rtype, author, agency


def _demo_records(
    session,
    writer,
    case: Case,
    users: dict[str, User],
    rng: random.Random,
    today: date,
    i: int,
    name: str,
    secret: list[SecretItem],
) -> int:
    custody = case.phase == "CUSTODY"
    notes = CUSTODY_NOTES if custody else COMMUNITY_NOTES
    # community records date from after release; custody records from the last ten months
    since_release = (today - case.release_date).days if case.release_date else 300
    span = 300 if custody else max(2, min(300, since_release - 1))
    n = 0
    for j, (key, (title, body)) in enumerate(notes.items()):
        rtype, author, agency = _writer(case, key, users, i)
        label, caveats = ("OFFICIAL", "") if j % 4 == 0 else ("OFFICIAL-SENSITIVE", "")
        if rtype == "MINUTES":
            label = "OFFICIAL-SENSITIVE"  # MAPPA minutes are never OFFICIAL
        if j % 5 == 2:
            caveats = "ORCON"
        if j % 7 == 3:
            caveats = "PERSONAL" if j % 2 else "UK EYES ONLY"
        occurred = today - timedelta(days=rng.randint(1, span))
        _demo_record(
            session,
            writer,
            case,
            author,
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
    if not custody:
        # rec 20: a current home-visit risk assessment, so police may visit the address
        _demo_record(
            session,
            writer,
            case,
            users["nm.nash"],
            "CTNM",
            "ASSESSMENT_HOME_VISIT_RISK",
            "OFFICIAL-SENSITIVE",
            "",
            today - timedelta(days=3),
            f"Home-visit risk assessment ({case.reference})",
            "Address checked on the police systems; no dogs or weapons reported. Two officers to "
            "attend; control room informed of the visit times.",
            [],
        )
        n += 1
    honsu = users["honsu.hughes"]  # the DV-vetted HoNSU writes the corridor's minutes
    for k, (title, body) in enumerate(secret_notes(case, name)):
        occurred = today - timedelta(days=rng.randint(1, min(200, span)))
        caveats = "ORCON" if k == 1 else ""
        author = honsu if k == 0 else users["lro.lewis"]
        made = _demo_record(
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
            body,
            [],
        )
        secret.append(SecretItem("record", made.id, case.reference, body))
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


def decision_log_texts(case: Case) -> dict[str, str]:
    """The SECRET texts of the demo's decision log, for a man in custody at case.establishment."""
    where = case.establishment or "prison"
    return {
        "meeting_closed": (
            f"Closed part: CT Policing briefed the corridor that he has been passing messages at "
            f"{where} to a man released last year who is under investigation. The source is "
            "sensitive; nothing from it goes into open records."
        ),
        "disclosure": (
            f"Reference only: CTP-NE/4471 reports contact from {where} with a known extremist "
            "through another prisoner's social visits."
        ),
        "decision": (
            "Ask the prison to review his contacts and the visits he is linked to before "
            "release, and seek a non-contact licence condition naming the released man."
        ),
        "action": (
            "Prison security to review his social visits list and phone numbers because of the "
            "disclosure, and report to the HoNSU before the next review."
        ),
    }


def _demo_decision_log(
    platform: Platform, session, case: Case, users: dict[str, User], today: date
) -> list[SecretItem]:
    """Recommendation 1 in the demo, on a man still in custody: a Reveal meeting, a secret
    disclosure, a signed decision with two actions, one released to the COM as a sanitised
    break-out. Returns the SECRET objects it wrote."""
    from datetime import UTC, datetime

    from sqlalchemy import select as query

    from ..context import Ctx
    from ..mappa import services as mappa
    from ..mappa.models import MappaAction

    honsu, lro = users["honsu.hughes"], users["lro.lewis"]
    ctx = Ctx(
        session,
        platform.access,
        platform.access.subject(session, honsu, today),
        platform.indexer,
        today,
    )
    texts = decision_log_texts(case)
    closed = texts["meeting_closed"]
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
            "Open part: release planning reviewed. Approved premises place confirmed for the "
            "release date; licence conditions agreed in principle; POM sessions to continue "
            "weekly until release.",
            closed,
            next_review=today + timedelta(days=28),
        ),
    )
    summary = texts["disclosure"]
    disclosure = mappa.record_disclosure(
        ctx,
        case.id,
        mappa.NewDisclosure(
            "CT_POLICING",
            "CTP-NE/4471",
            honsu.id,
            datetime.now(UTC) - timedelta(days=6),
            handling="No onward disclosure without the originator's consent.",
            summary=summary,
            meeting_id=meeting.id,
        ),
    )
    decision_text, closed_action = texts["decision"], texts["action"]
    data = mappa.NewDecision(
        meeting.id,
        [disclosure.id],
        decision_text,
        "The disclosure indicates contact with a man under investigation; reviewing his contacts "
        "in custody gives early warning, and the condition protects the public after release.",
        options=(
            "1. No change (rejected). 2. Move him to another establishment (disproportionate "
            "before release). 3. Review of contacts and a new licence condition (agreed)."
        ),
        caveats=("ORCON",),
        actions=[
            mappa.NewAction(
                closed_action,
                users["com.cole"].id,
                today + timedelta(days=5),
                mappa.NewBreakout(
                    "Include a non-contact condition in the licence request and check the "
                    "release address's visitors list with the prison before release.",
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
    decision = mappa.record_decision(
        ctx, case.id, data, mappa.prepare_decision(ctx, case.id, data).token
    )
    actions = session.scalars(
        query(MappaAction)
        .where(MappaAction.decision_id == decision.id)
        .order_by(MappaAction.position)
    ).all()
    return [
        SecretItem("meeting_closed", meeting.id, case.reference, closed),
        SecretItem("disclosure", disclosure.id, case.reference, summary),
        SecretItem("decision", decision.id, case.reference, decision_text),
        SecretItem("action", actions[0].id, case.reference, closed_action),
    ]


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


def secret_material(session) -> list[SecretItem]:
    """The demo's SECRET objects, found by label and id, with the text each was written with.

    For tests that seed once and copy the database: the texts are a function of the case (the
    seed is deterministic), so nothing SECRET is ever stored in plain form to find them.
    """
    from ..mappa.models import Disclosure, MappaAction, MappaDecision, MappaMeeting

    secret = Classification.SECRET.marking
    cases = {c.id: c for c in session.scalars(select(Case))}

    def name(case: Case) -> str:
        return " ".join(demo_name(int(case.reference.removeprefix("SP-")) - 1001))

    items = []
    for rid, case_id, caveats in session.execute(
        select(Record.id, Record.case_id, Record.caveats).where(Record.classification == secret)
    ):
        case = cases[case_id]
        k = 1 if "ORCON" in caveats else 0
        items.append(
            SecretItem("record", rid, case.reference, secret_notes(case, name(case))[k][1])
        )
    for kind, model in (
        ("meeting_closed", MappaMeeting),
        ("disclosure", Disclosure),
        ("decision", MappaDecision),
    ):
        for oid, case_id in session.execute(select(model.id, model.case_id)):
            case = cases[case_id]  # the demo's decision log is SECRET throughout
            items.append(SecretItem(kind, oid, case.reference, decision_log_texts(case)[kind]))
    for oid, case_id in session.execute(
        select(MappaAction.id, MappaAction.case_id).where(MappaAction.position == 0)
    ):
        case = cases[case_id]
        items.append(SecretItem("action", oid, case.reference, decision_log_texts(case)["action"]))
    return items
