"""Use cases for nominals and cases: creating them, caseloads, search and the case page."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from ..access.facts import CaseRef, Facts, Relation, Subject, relation
from ..access.kernel import AccessLayer
from ..access.system import SystemWriter
from ..access.vocabulary import Act, Kind, ObjectKind
from ..audit.log import Event
from ..context import Ctx
from ..crypto.blind_index import BlindIndexer
from ..domain.agencies import Role
from ..domain.cases import CaseCategory, MappaCategory, MappaLevel, Phase
from ..domain.errors import IntegrityFailure, InvalidValue, NotFound
from ..domain.labels import Classification, highest
from .models import Case, MappaLevelChange, Nominal, NominalIndex, TeamMembership
from .search import add_tokens, match_nominals

IDENTIFIERS = ("pnc", "cro", "nomis", "crn", "visor")
IDENTIFIER_TITLES = {
    "pnc": "PNC ID",
    "cro": "CRO number",
    "nomis": "NOMIS number",
    "crn": "nDelius CRN",
    "visor": "ViSOR number",
}


@dataclass(frozen=True)
class NominalDetails:
    id: uuid.UUID
    given_name: str
    family_name: str
    aliases: list[str]
    date_of_birth: str | None
    identifiers: dict[str, str]
    label: str

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True)
class CaseSummary:
    id: uuid.UUID
    reference: str
    name: str
    category: str
    phase: str
    mappa_level: int
    next_key_date: tuple[str, date] | None
    capacity: str


@dataclass(frozen=True)
class TeamMember:
    user_id: uuid.UUID
    name: str
    role: str
    agency: str
    capacity: str
    panel: bool
    lead: bool
    start: date
    end: date | None


@dataclass(frozen=True)
class LevelChange:
    level: int
    effective_from: date
    rationale: str
    set_by: str


@dataclass
class CaseView:
    case: Case
    nominal: NominalDetails
    team: list[TeamMember]
    levels: list[LevelChange]
    highest: Classification = Classification.OFFICIAL_SENSITIVE
    relation: Relation = field(default_factory=Relation)


def case_ref(case: Case) -> CaseRef:
    """What access decisions read of a case; refused when its facts fail their check."""
    if not case.facts_intact:
        raise IntegrityFailure("cases", str(case.id))
    return CaseRef(case.id, case.nsd_unit, case.ct_unit)


# -- writing ------------------------------------------------------------------------------------
def add_nominal(
    session: Session,
    writer: SystemWriter,
    indexer: BlindIndexer,
    *,
    given_name: str,
    family_name: str,
    aliases: list[str] | None = None,
    date_of_birth: date | None = None,
    identifiers: dict[str, str] | None = None,
    event: Event | None = None,
) -> Nominal:
    """Create a nominal, identity sealed at OFFICIAL-SENSITIVE and blind-indexed for search."""
    if not given_name.strip() or not family_name.strip():
        raise InvalidValue(
            "name", f"{given_name} {family_name}".strip(), why="given and family names are required"
        )
    ids = {k: v.strip() for k, v in (identifiers or {}).items() if v and v.strip()}
    unknown = set(ids) - set(IDENTIFIERS)
    if unknown:
        raise InvalidValue("identifier type", sorted(unknown)[0], list(IDENTIFIERS))
    nominal = Nominal(
        id=uuid.uuid4(), classification=Classification.OFFICIAL_SENSITIVE.marking, caveats=""
    )
    plain = {
        "names": json.dumps(
            {"given": given_name.strip(), "family": family_name.strip(), "aliases": aliases or []}
        ),
        "dob": date_of_birth.isoformat() if date_of_birth else None,
        "identifiers": json.dumps(ids, sort_keys=True),
    }
    writer.seal(
        session,
        nominal,
        plain,
        event
        or Event(
            action="nominal.create",
            object_type="nominal",
            outcome="done",
            label=Classification.OFFICIAL_SENSITIVE,
        ),
    )
    session.flush()
    for kind, value in index_terms(given_name, family_name, aliases or [], ids):
        session.add(
            NominalIndex(nominal_id=nominal.id, kind=kind, digest=indexer.digest(kind, value))
        )
    add_tokens(session, indexer, nominal.id, given_name, family_name, aliases or [], date_of_birth)
    return nominal


def index_terms(
    given: str, family: str, aliases: list[str], ids: dict[str, str]
) -> list[tuple[str, str]]:
    terms = [("name", f"{given} {family}"), ("name", family)]
    terms += [("name", a) for a in aliases if a.strip()]
    terms += [(kind, value) for kind, value in ids.items()]
    return terms


def open_case(
    session: Session,
    writer: SystemWriter,
    *,
    nominal: Nominal,
    reference: str,
    category: str,
    phase: str,
    lead_agency: str,
    nsd_unit: str | None,
    ct_unit: str | None,
    establishment: str | None = None,
    mappa_category: int = 4,
    mappa_level: int = 3,
    release_date: date | None = None,
    licence_end: date | None = None,
    sentence_end: date | None = None,
    next_review: date | None = None,
) -> Case:
    case = Case(
        id=uuid.uuid4(),
        reference=reference,
        nominal_id=nominal.id,
        category=CaseCategory.parse(category).value,
        phase=Phase.parse(phase).value,
        lead_agency=lead_agency,
        nsd_unit=nsd_unit,
        ct_unit=ct_unit,
        establishment=establishment,
        mappa_category=int(MappaCategory.parse(mappa_category)),
        mappa_level=int(MappaLevel.parse(mappa_level)),
        release_date=release_date,
        licence_end=licence_end,
        sentence_end=sentence_end,
        next_review=next_review,
    )
    session.add(case)
    writer.record(
        session,
        Event(
            action="case.open",
            object_type="case",
            outcome="done",
            label=Classification.OFFICIAL_SENSITIVE,
            object_id=str(case.id),
            case_id=str(case.id),
        ),
    )
    return case


def add_member(
    session: Session,
    case: Case,
    user_id: uuid.UUID,
    capacity: str,
    start: date,
    *,
    panel: bool = False,
    lead: bool = False,
    end: date | None = None,
) -> TeamMembership:
    Role.parse(capacity)
    member = TeamMembership(
        case_id=case.id,
        user_id=user_id,
        capacity=capacity,
        panel=panel,
        lead=lead,
        start_date=start,
        end_date=end,
    )
    session.add(member)
    return member


def _level_change(
    case: Case, level: int, effective_from: date, rationale: str, set_by: uuid.UUID
) -> tuple[MappaLevelChange, dict[str, str | None], Event]:
    """A MAPPA level change row, its sealed rationale and its audit event; a change always
    carries its rationale."""
    if not rationale or not rationale.strip():
        raise InvalidValue("rationale", rationale, why="a MAPPA level change needs its rationale")
    change = MappaLevelChange(
        id=uuid.uuid4(),
        case_id=case.id,
        level=int(MappaLevel.parse(level)),
        effective_from=effective_from,
        set_by_id=set_by,
        classification=Classification.OFFICIAL_SENSITIVE.marking,
        caveats="",
    )
    event = Event(
        action="mappa.level",
        object_type="case",
        outcome="done",
        label=Classification.OFFICIAL_SENSITIVE,
        object_id=str(case.id),
        case_id=str(case.id),
        detail={"level": level},
    )
    return change, {"rationale": rationale.strip()}, event


def set_level(
    session: Session,
    access: AccessLayer,
    subject: Subject,
    case: Case,
    level: int,
    effective_from: date,
    rationale: str,
) -> MappaLevelChange:
    """Record a MAPPA level change decided by `subject` (e.g. with a signed MAPPA decision)."""
    change, plain, event = _level_change(case, level, effective_from, rationale, subject.user_id)
    access.write(
        session,
        subject,
        change,
        plain,
        Facts.on(
            Kind.MAPPA_LEVEL, Classification.OFFICIAL_SENSITIVE, relation(subject, case_ref(case))
        ),
        event,
    )
    case.mappa_level = change.level
    return change


def import_level(
    session: Session,
    writer: SystemWriter,
    case: Case,
    level: int,
    effective_from: date,
    rationale: str,
    set_by: uuid.UUID,
) -> MappaLevelChange:
    """Record a level change from an existing system's history (imports, seeding)."""
    change, plain, event = _level_change(case, level, effective_from, rationale, set_by)
    writer.seal(session, change, plain, event)
    case.mappa_level = change.level
    return change


# -- reading ------------------------------------------------------------------------------------
def visible_case_ids_clause(ctx: Ctx):
    """Cases the subject has any relation to: team, panel, oversight unit or break-glass."""
    s = ctx.subject
    terms: list[ColumnElement[bool]] = [
        Case.id.in_(s.team_cases | s.panel_cases | s.break_glass_cases)
    ]
    oversight = s.role.info.oversight.value
    if oversight == "nsd_unit" and s.nsd_unit:
        terms.append(Case.nsd_unit == s.nsd_unit)
    if oversight == "ct_unit" and s.ct_unit:
        terms.append(Case.ct_unit == s.ct_unit)
    return or_(*terms)


def _case_facts(
    ctx: Ctx,
    case: Case,
    kind: ObjectKind = Kind.CASE,
    label: Classification = Classification.OFFICIAL_SENSITIVE,
) -> Facts:
    return Facts.on(kind, label, relation(ctx.subject, case_ref(case)))


def _nominal_facts(ctx: Ctx, case: Case) -> Facts:
    return _case_facts(ctx, case, Kind.NOMINAL)


def nominal_details(row: Nominal, plain: dict[str, str | None]) -> NominalDetails:
    names = json.loads(plain["names"] or "{}")
    return NominalDetails(
        row.id,
        names.get("given", ""),
        names.get("family", ""),
        names.get("aliases", []),
        plain.get("dob"),
        json.loads(plain["identifiers"] or "{}"),
        row.classification,
    )


def caseload(ctx: Ctx) -> list[CaseSummary]:
    """Cases where I am on the team or panel today, with phase, level and next key date."""
    s = ctx.subject
    mine = s.team_cases | s.panel_cases
    if not mine:
        ctx.access.record(
            ctx.session,
            s,
            Event(
                action="caseload.view",
                object_type="case",
                outcome="allow",
                label=Classification.OFFICIAL,
                detail={"cases": []},
            ),
        )
        return []
    rows = ctx.session.execute(
        select(Case, Nominal, TeamMembership.capacity)
        .join(Nominal, Nominal.id == Case.nominal_id)
        .join(
            TeamMembership,
            and_(TeamMembership.case_id == Case.id, TeamMembership.user_id == s.user_id),
        )
        .where(Case.id.in_(mine))
        .order_by(Case.reference)
    ).all()
    # a case is listed only when I may open it today (expired vetting or policy can take it away)
    rows = [
        r
        for r in rows
        if ctx.access.decide(ctx.session, s, _case_facts(ctx, r[0]), Act.READ).allowed
    ]
    by_nominal = {case.nominal_id: (case, capacity) for case, _, capacity in rows}
    nominals = {n.id: n for _, n, _ in rows}
    opened = ctx.access.read(
        ctx.session,
        s,
        list(nominals.values()),
        lambda n: _nominal_facts(ctx, by_nominal[n.id][0]),
        Event(
            action="caseload.view",
            object_type="nominal",
            outcome="allow",
            label=Classification.OFFICIAL_SENSITIVE,
        ),
    )
    names = {row.id: nominal_details(row, plain).full_name for row, plain in opened.rows}  # type: ignore[arg-type]
    out = []
    seen = set()
    for case, nominal, capacity in rows:
        if case.id in seen:
            continue
        seen.add(case.id)
        out.append(
            CaseSummary(
                case.id,
                case.reference,
                names.get(nominal.id, "Withheld"),
                CaseCategory(case.category).title,
                Phase(case.phase).title,
                case.mappa_level,
                next_key_date(case, ctx.today),
                capacity,
            )
        )
    return out


def next_key_date(case: Case, today: date) -> tuple[str, date] | None:
    dates = [
        ("Release", case.release_date),
        ("MAPPA review", case.next_review),
        ("Licence end", case.licence_end),
        ("Sentence end", case.sentence_end),
    ]
    upcoming = sorted((d, name) for name, d in dates if d is not None and d >= today)
    return (upcoming[0][1], upcoming[0][0]) if upcoming else None


def search_nominals(ctx: Ctx, query: str) -> list[tuple[CaseSummary, NominalDetails]]:
    """Search by name, name part, prefix, sound-alike, date of birth, identifier or case
    reference through blind indexes (shareplatform/cases/search.py), best matches first.

    Only cases I may see are returned.
    """
    query = query.strip()
    if not query:
        return []
    found = match_nominals(ctx.session, ctx.indexer, query, visible_case_ids_clause(ctx))
    rows = ctx.session.execute(
        select(Case, Nominal)
        .join(Nominal, Nominal.id == Case.nominal_id)
        .where(Nominal.id.in_(found))
        .where(visible_case_ids_clause(ctx))
        .order_by(Case.reference)
    ).all()
    rows = sorted(rows, key=lambda r: -found[r[1].id])  # best matches first
    cases = {n.id: c for c, n in rows}
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        [n for _, n in rows],
        lambda n: _nominal_facts(ctx, cases[n.id]),
        Event(
            action="nominal.search",
            object_type="nominal",
            outcome="allow",
            label=Classification.OFFICIAL_SENSITIVE,
            detail={"matches": len(rows)},
        ),
    )
    out = []
    for row, plain in opened.rows:
        case = cases[row.id]
        details = nominal_details(row, plain)  # type: ignore[arg-type]
        out.append(
            (
                CaseSummary(
                    case.id,
                    case.reference,
                    details.full_name,
                    CaseCategory(case.category).title,
                    Phase(case.phase).title,
                    case.mappa_level,
                    next_key_date(case, ctx.today),
                    "",
                ),
                details,
            )
        )
    return out


def find_case(ctx: Ctx, case_id: uuid.UUID | str, action: str) -> Case:
    """The case row, without deciding anything yet; an unknown id is audited under `action` and
    answered NotFound, worded exactly as a case the user may not open."""
    try:
        cid = case_id if isinstance(case_id, uuid.UUID) else uuid.UUID(str(case_id))
    except ValueError:
        raise NotFound("case") from None
    case = ctx.session.get(Case, cid)
    if case is None:
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action=action,
                object_type="case",
                outcome="deny",
                object_id=str(cid),
                case_id=str(cid),
                reason="no such case",
            ),
        )
        raise NotFound("case")
    return case


def get_case(ctx: Ctx, case_id: uuid.UUID | str) -> Case:
    """The case, if it exists and I may open it; otherwise NotFound (identical either way)."""
    case = find_case(ctx, case_id, "case.view")
    event = Event(
        action="case.view",
        object_type="case",
        outcome="allow",
        label=Classification.OFFICIAL_SENSITIVE,
        object_id=str(case.id),
        case_id=str(case.id),
    )
    ctx.access.require(ctx.session, ctx.subject, _case_facts(ctx, case), Act.READ, event)
    return case


def case_view(ctx: Ctx, case_id: uuid.UUID | str) -> CaseView:
    case = get_case(ctx, case_id)
    found, keys = ctx.access.load_for_reading(
        ctx.session, select(Nominal).where(Nominal.id == case.nominal_id)
    )
    nominal = found[0]
    plain = ctx.access.read_one(
        ctx.session,
        ctx.subject,
        nominal,
        _nominal_facts(ctx, case),
        Event(
            action="nominal.read",
            object_type="nominal",
            outcome="allow",
            label=Classification.parse(nominal.classification),
            object_id=str(nominal.id),
            case_id=str(case.id),
        ),
        keys=keys,
    )
    team = team_of(ctx, case)
    levels = level_history(ctx, case)
    return CaseView(
        case,
        nominal_details(nominal, plain),
        team,
        levels,
        relation=relation(ctx.subject, case_ref(case)),
    )


def team_of(ctx: Ctx, case: Case) -> list[TeamMember]:
    from ..accounts.models import User

    if not ctx.access.decide(
        ctx.session, ctx.subject, _case_facts(ctx, case, Kind.TEAM), Act.READ
    ).allowed:
        return []
    rows = ctx.session.execute(
        select(TeamMembership, User)
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.case_id == case.id)
        .order_by(TeamMembership.start_date)
    ).all()
    return [
        TeamMember(
            u.id,
            u.display_name,
            Role.parse(u.role).title,
            u.agency,
            m.capacity,
            m.panel,
            m.lead,
            m.start_date,
            m.end_date,
        )
        for m, u in rows
    ]


def level_history(ctx: Ctx, case: Case) -> list[LevelChange]:
    from ..accounts.models import User

    rows, keys = ctx.access.load_for_reading(
        ctx.session,
        select(MappaLevelChange, User.display_name)
        .join(User, User.id == MappaLevelChange.set_by_id)
        .where(MappaLevelChange.case_id == case.id)
        .order_by(MappaLevelChange.effective_from.desc(), MappaLevelChange.created_at.desc()),
    )
    who = {c.id: name for c, name in rows}
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        [c for c, _ in rows],
        lambda c: _case_facts(ctx, case, Kind.TEAM, Classification.parse(c.classification)),
        Event(
            action="mappa.history",
            object_type="case",
            outcome="allow",
            label=Classification.OFFICIAL_SENSITIVE,
            object_id=str(case.id),
            case_id=str(case.id),
        ),
        keys=keys,
    )
    return [
        LevelChange(c.level, c.effective_from, plain["rationale"] or "", who[c.id])  # type: ignore[attr-defined]
        for c, plain in opened.rows
    ]


def highest_of(labels: list[str]) -> Classification:
    return highest(Classification.parse(x) for x in labels)
