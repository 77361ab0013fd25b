"""One answer for everything withheld: for one demo user of each role and clearance tier, every
route with an id in its path (walked from app.url_map, both faces), asked with the id of an object
the user may not see and with a random id, must answer alike: same status, same body byte for byte
once per-request values (CSRF tokens, nonces, the id itself) are normalised. GET everywhere; POST
(with a valid CSRF token) where the route accepts it. Each route is asked with one withheld object
per method, the sampled objects taking turns across the routes naming them, so every sampled
object is asked too.

Every route is asked with a random id even when nothing of its kind is withheld from the user, so a
refusal by the route check itself (shareplatform/web/authorise.py) is read on every route: it may
never name SECRET, the corridor or vetting. The demo data set holds no risk management plan,
transition checklist or break-glass grant: the crawl adds some, so their routes meet real ids.

An object the user may know exists may answer otherwise: when they can see it (a 2xx or 3xx), or
with the "further information is held" marker for a record the withheld-mode policy lets them
know of (never a SECRET one). No refusal may name SECRET, the sterile corridor or vetting.

SQLite only: the answers are decided in Python above the database, so PostgreSQL would double the
time without reaching another line of the code under test.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from shareplatform.accounts import tokens
from shareplatform.accounts.auth import _new_session
from shareplatform.accounts.models import User
from shareplatform.break_glass.models import BreakGlass
from shareplatform.break_glass.services import take_break_glass
from shareplatform.cases.models import Case
from shareplatform.demo.seed import DEMO_USERS
from shareplatform.domain.agencies import Role
from shareplatform.domain.cases import RecordType
from shareplatform.domain.labels import Classification
from shareplatform.domain.vetting import Vetting
from shareplatform.lifecycle import services as lc
from shareplatform.lifecycle.models import RiskPlan, TransitionChecklist
from shareplatform.mappa.models import MappaAction, MappaDecision, MappaMeeting
from shareplatform.records.models import Record
from shareplatform.web.shell import SESSION_COOKIE
from tests.factories import app_for, ctx_for

# the URL parameters that name an object, and where such objects live
TABLES = {
    "case_id": Case,
    "record_id": Record,
    "decision_id": MappaDecision,
    "meeting_id": MappaMeeting,
    "action_id": MappaAction,
    "plan_id": RiskPlan,
    "checklist_id": TransitionChecklist,
    "grant_id": BreakGlass,
}
# each object's own page: an object it shows (or marks as held) is one the user may know exists
OWN_PAGE = {
    "case_id": "/cases/{}",
    "record_id": "/records/{}",
    "decision_id": "/mappa/decisions/{}",
    "meeting_id": "/mappa/meetings/{}",
    "action_id": "/mappa/actions/{}",
    "checklist_id": "/lifecycle/checklists/{}",
}
FIXED = {"fmt": "html"}  # other parameters of those routes: one valid value
PER_TABLE = 2  # sampled objects per table: each label present first, then other cases
NEVER_SHOWN = ("record_id", "decision_id")  # whose SECRET rows a frontline user never opens
MARKER = "Further information is held"
NAMED = re.compile(r"SECRET|sterile corridor|vetting", re.IGNORECASE)
# values that change with every request (CSRF tokens carry a timestamp), in any attribute order
CSRF = re.compile(
    r'(name="csrf_token"(?: type="hidden")? value="|type="hidden" name="csrf_token" value="'
    r'|data-csrf-token=")([^"]+)'
)
PER_REQUEST = (CSRF, re.compile(r'(nonce=")[^"]+'))


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    param: str
    methods: frozenset[str]
    api: bool

    def url(self, value: str) -> str:
        url = self.rule
        for name, fixed in FIXED.items():
            url = url.replace(f"<{name}>", fixed)
        return re.sub(r"<(?:[a-z]+:)?" + self.param + ">", value, url)


def id_routes(app) -> list[Route]:  # type: ignore[no-untyped-def]
    routes = []
    for rule in app.url_map.iter_rules():
        params = set(rule.arguments)
        named = [p for p in params if p in TABLES]
        if len(named) != 1 or params - set(named) - set(FIXED):
            continue
        methods = frozenset(rule.methods or ()) & {"GET", "POST"}
        if methods:
            routes.append(
                Route(rule.rule, rule.endpoint, named[0], methods, rule.rule.startswith("/api/"))
            )
    return routes


@dataclass(frozen=True)
class Sampled:
    id: str
    label: str  # "" for objects without one
    case_id: str


def sample_ids(session, model) -> list[Sampled]:  # type: ignore[no-untyped-def]
    """A few objects of each table: one of each label first, then objects of other cases."""
    rows = list(session.scalars(select(model).order_by(model.id)))
    picked: dict[object, Sampled] = {}

    def sampled(row) -> Sampled:  # type: ignore[no-untyped-def]
        label = getattr(row, "classification", "")
        return Sampled(str(row.id), label, str(getattr(row, "case_id", row.id)))

    for row in rows:
        picked.setdefault(("label", getattr(row, "classification", "")), sampled(row))
    for row in rows:
        if len(picked) >= PER_TABLE:
            break
        picked.setdefault(("case", getattr(row, "case_id", row.id)), sampled(row))
    return list(dict.fromkeys(picked.values()))[:PER_TABLE]


def normalised(body: str, value: str) -> str:
    for pattern in PER_REQUEST:
        body = pattern.sub(r"\1<per-request>", body)
    return body.replace(value, "<id>")


class Asker:
    """One demo user's two faces: a signed-in browser session and an API token."""

    def __init__(self, app, platform, username: str) -> None:  # type: ignore[no-untyped-def]
        self.client = app.test_client()
        with platform.transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            cookie = _new_session(session, user, True, "withheld crawl")
            _, self.token = tokens.create_token(
                session, platform.access, user, "crawl", "read-write", 1, by_system=True
            )
        self.client.set_cookie(SESSION_COOKIE, cookie)
        home = self.client.get("/", follow_redirects=True).get_data(as_text=True)
        found = CSRF.search(home)
        assert found, "no CSRF token on the home page: every POST would stop at the CSRF check"
        self.csrf = found.group(2)
        self.refused: dict[str, bool] = {}

    def ask(self, route: Route, method: str, value: str) -> tuple[int, str]:
        url = route.url(value)
        if route.api:
            headers = {"Authorization": f"Bearer {self.token}"}
            r = self.client.open(url, method=method, headers=headers, json={})
        else:
            data = {"csrf_token": self.csrf} if method == "POST" else None
            r = self.client.open(url, method=method, data=data)
        return r.status_code, normalised(r.get_data(as_text=True), value)

    def withheld(self, param: str, obj: Sampled, corridor: bool) -> bool:
        """Is this object one the user may not know exists? Its own page (or, for objects
        without one, its case's page) refuses it and shows no marker. A SECRET record or decision
        is withheld from anyone outside the corridor whatever its page says (the test then fails
        on that page)."""
        if obj.label == "SECRET" and not corridor and param in NEVER_SHOWN:
            return True
        page = OWN_PAGE.get(param)
        url = page.format(obj.id) if page else OWN_PAGE["case_id"].format(obj.case_id)
        if url not in self.refused:  # objects without a page of their own share their case's
            r = self.client.get(url)
            self.refused[url] = r.status_code >= 400 and MARKER not in r.get_data(as_text=True)
        return self.refused[url]


GRANTEE = "pom.quinn"  # takes a break-glass grant on the case below; another POM is crawled


def _tier(vetting: str) -> bool:
    return Vetting(vetting).clearance is Classification.SECRET


def one_per_tier() -> list[tuple[str, str]]:
    """One demo user per role, clearance tier and unit: others of the same would be refused and
    shown exactly alike."""
    users: dict[tuple[object, ...], tuple[str, str]] = {}
    for username, _, role, vetting, nsd, ct in DEMO_USERS:
        if username not in ("com.expired", GRANTEE):
            users.setdefault((role, _tier(vetting), nsd, ct), (username, role))
    return list(users.values())


USERS = one_per_tier()


@pytest.fixture(scope="module")
def crawled(seeded_template, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo data set (a private copy), its app, its id routes and the sampled objects."""
    from shareplatform.platform import Platform
    from tests.factories import make_config

    url, keys = seeded_template.copy(tmp_path_factory.mktemp("withheld-crawl"))
    platform = Platform(make_config(url, keys))
    platform.bind()
    add_unseeded_objects(platform)
    app = app_for(platform)
    app.config["API_RATE_LIMIT"] = 1_000_000
    with platform.transaction() as session:
        ids = {param: sample_ids(session, model) for param, model in TABLES.items()}
    yield platform, app, id_routes(app), ids
    platform.db.dispose()


def add_unseeded_objects(platform) -> None:  # type: ignore[no-untyped-def]
    """On SP-1001: a SECRET plan version by the panel's HoNSU, an OFFICIAL-SENSITIVE one and a
    transition checklist by the COM, and a break-glass grant taken by a POM not on the case."""
    today = date.today()
    with platform.transaction() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == "SP-1001"))
        honsu, com = (ctx_for(platform, session, u) for u in ("honsu.hughes", "com.cole"))
        basis = session.scalars(
            select(Record.id).where(
                Record.case_id == case_id,
                Record.record_type.in_([t.value for t in PLAN_BASIS]),
            )
        ).all()
        for ctx, label in ((honsu, "SECRET"), (com, "OFFICIAL-SENSITIVE")):
            lc.record_plan(ctx, case_id, _plan(list(basis), label))
        lc.open_checklist(com, case_id, lc.NewChecklist("RELEASE", today, com.subject.user_id))
        grantee = ctx_for(platform, session, GRANTEE)
        take_break_glass(grantee, case_id, "Urgent risk information needed out of hours")


PLAN_BASIS = (RecordType.ASSESSMENT_OASYS, RecordType.ASSESSMENT_ERG)


def _plan(basis: list[uuid.UUID], label: str) -> lc.NewPlan:
    text = f"{label} plan text"
    return lc.NewPlan(text, text, text, text, text, ["TERRORISM"], basis, classification=label)


def _answers(asker: Asker, route: Route, objects: list[Sampled], turn: int) -> Iterator[tuple]:  # type: ignore[type-arg]
    """Per method: the answer for a random id, and for the withheld object whose turn it is."""
    for method in sorted(route.methods):
        unknown = asker.ask(route, method, str(uuid.uuid4()))
        mine = [objects[turn % len(objects)]] if objects else []
        asked = [(o, asker.ask(route, method, o.id)) for o in mine]
        yield method, unknown, asked


@pytest.mark.parametrize(("username", "role"), USERS, ids=[u for u, _ in USERS])
def test_withheld_answers_as_unknown(crawled, username: str, role: str) -> None:  # type: ignore[no-untyped-def]
    platform, app, routes, ids = crawled
    asker = Asker(app, platform, username)
    corridor = Role.parse(role).in_corridor
    hidden = {
        param: [obj for obj in sample if asker.withheld(param, obj, corridor)]
        for param, sample in ids.items()
    }
    problems: list[str] = []
    turns: Counter[str] = Counter()
    for route in routes:
        turn = turns[route.param]
        turns[route.param] += 1
        for method, unknown, asked in _answers(asker, route, hidden[route.param], turn):
            named = NAMED.search(_text(unknown[1])) if unknown[0] >= 400 else None
            if named:  # refusals never give a reason in terms of labels, corridor or vetting
                problems.append(f"{method} {route.rule}: the refusal names {named.group(0)!r}")
            for obj, (status, body) in asked:
                if (status, body) != unknown:
                    where = f"{method} {route.rule} {obj.label} {obj.id}"
                    problems.append(f"{where}: {status} where an unknown id answers {unknown[0]}")
    problems = list(dict.fromkeys(problems))
    assert not problems, f"{len(problems)} answers differ, e.g.\n" + "\n".join(problems[:20])


def _text(body: str) -> str:
    """What a reader sees of a page: its main content (the shell's banners name the page's label,
    which is the highest label shown, not a reason)."""
    main = re.search(r"<main[^>]*>(.*)</main>", body, re.DOTALL)
    return re.sub(r"<[^>]+>", " ", main.group(1) if main else body)
