"""Risk management plans (rec 13/18): versioned, four headings, contingency, licence conditions,
risks covered, the assessments it rests on with their dates, SOL countersignature, and an alert
when the plan predates the latest ERG 22+ or PGF. Plan text is sealed: read and written only
through the access layer (kind `plan`, OFFICIAL-SENSITIVE by default)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import get_case
from ..context import Ctx
from ..domain.agencies import Role
from ..domain.cases import RecordType
from ..domain.errors import Conflict, InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification, Label
from .common import (
    OS,
    case_facts,
    case_record,
    demand,
    names,
    need,
    parse_id,
    readable_records,
    write_own,
)
from .models import PlanBasis, PlanCountersignature, RiskPlan
from .stages import PLAN_BASIS_TYPES, Enquiry, Risk, stale

HEADINGS = {
    "supervision": "Supervision",
    "monitoring": "Monitoring and control",
    "interventions": "Interventions and treatment",
    "victim_safety": "Victim safety planning",
    "contingency": "Contingency plan",
}
ENQUIRY_TYPES = tuple(e.record_type for e in Enquiry)


@dataclass(frozen=True)
class NewPlan:
    supervision: str
    monitoring: str
    interventions: str
    victim_safety: str
    contingency: str
    covers: list[str]
    basis: list[
        uuid.UUID | str
    ]  # assessments (OASys, ERG 22+, PGF) and enquiry records it rests on
    licence_conditions: str = ""
    classification: str = OS.marking
    caveats: tuple[str, ...] = ()


@dataclass(frozen=True)
class Basis:
    record_id: uuid.UUID
    record_type: RecordType
    dated: date


@dataclass
class PlanView:
    id: uuid.UUID
    case_id: uuid.UUID
    version: int
    label: Label
    covers: list[Risk]
    effective_on: date
    author: str
    created_at: datetime
    text: dict[str, str]
    licence_conditions: str
    basis: list[Basis] = field(default_factory=list)
    countersigned_by: str = ""
    countersigned_at: datetime | None = None
    alert: str = ""


def record_plan(ctx: Ctx, case_id: uuid.UUID | str, data: NewPlan) -> RiskPlan:
    """A new version of the case's plan; earlier versions stay as they were."""
    case = get_case(ctx, case_id)
    event = Event(
        action="plan.write",
        object_type="plan",
        outcome="done",
        label=OS,
        object_id="",
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.PLAN,
        act=Act.WRITE,
        event=event,
        message="Only the case team and its managers may write the plan.",
    )
    text = {
        k: need(title.lower(), getattr(data, k), f"enter the {title.lower()}")
        for k, title in HEADINGS.items()
    }
    conditions = (data.licence_conditions or "").strip()
    if len(conditions) > 20_000:
        raise InvalidValue(
            "licence conditions", conditions[:20] + "...", why="must be 20000 characters or fewer"
        )
    covers = sorted({Risk.parse(c, "risk covered") for c in data.covers if str(c).strip()})
    if not covers:
        raise InvalidValue("risks covered", "", why="choose the risks the plan covers")
    basis = []
    for rid in dict.fromkeys(str(b) for b in data.basis if str(b).strip()):
        basis.append(case_record(ctx, case, rid, PLAN_BASIS_TYPES + ENQUIRY_TYPES, "assessments"))
    if not any(RecordType(r.record_type) in PLAN_BASIS_TYPES for r in basis):
        raise InvalidValue(
            "assessments",
            "",
            why="choose the assessments (OASys, ERG 22+ or PGF) the plan rests on",
        )
    label = Label.of(data.classification, list(data.caveats))
    version = (
        ctx.session.scalar(select(func.max(RiskPlan.version)).where(RiskPlan.case_id == case.id))
        or 0
    ) + 1
    plan = RiskPlan(
        id=uuid.uuid4(),
        case_id=case.id,
        version=version,
        covers=",".join(r.value for r in covers),
        effective_on=ctx.today,
        author_id=ctx.subject.user_id,
        classification=label.classification.marking,
        caveats=label.caveat_text(),
    )
    write_own(
        ctx,
        case,
        Kind.PLAN,
        plan,
        {**text, "licence_conditions": conditions or None},
        "plan.write",
        "",
        {"version": version, "basis": [str(r.id) for r in basis]},
        label=Classification.parse(label.classification.marking),
    )
    for r in basis:
        ctx.session.add(
            PlanBasis(
                plan_id=plan.id, record_id=r.id, record_type=r.record_type, dated=r.occurred_on
            )
        )
    ctx.session.flush()
    return plan


def countersign(ctx: Ctx, plan_id: uuid.UUID | str) -> PlanCountersignature:
    """The SOL countersigns one plan version: the latest, and never their own."""
    plan = ctx.session.get(RiskPlan, parse_id(plan_id, "plan"))
    if plan is None:
        raise NotFound("plan")
    case = get_case(ctx, plan.case_id)
    event = Event(
        action="plan.countersign",
        object_type="plan",
        outcome="done",
        label=Classification.parse(plan.classification),
        object_id=str(plan.id),
        case_id=str(case.id),
    )
    demand(
        ctx,
        case,
        kind=Kind.PLAN,
        act=Act.APPROVE,
        event=event,
        message="Only the senior operational lead for this case may countersign its plan.",
        label=Classification.parse(plan.classification),
    )
    if ctx.subject.role is not Role.SOL:
        raise NotPermitted("Only a senior operational lead countersigns a risk management plan.")
    if plan.author_id == ctx.subject.user_id:
        raise NotPermitted(
            "You wrote this version: another senior operational lead must countersign it."
        )
    latest = ctx.session.scalar(
        select(func.max(RiskPlan.version)).where(RiskPlan.case_id == case.id)
    )
    if plan.version != latest:
        # no number: the stored one counts versions this user may not be able to read
        raise Conflict("A later version has replaced this version: countersign the latest version.")
    if ctx.session.scalar(
        select(PlanCountersignature.id).where(PlanCountersignature.plan_id == plan.id)
    ):
        raise Conflict("This version is already countersigned.")
    row = PlanCountersignature(plan_id=plan.id, by_id=ctx.subject.user_id)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.access.record(ctx.session, ctx.subject, event)
    return row


def latest_assessment(ctx: Ctx, case: Case) -> date | None:
    """Date of the latest ERG 22+ or PGF the user may read (so an alert never reveals more)."""
    rows = readable_records(ctx, case, (RecordType.ASSESSMENT_ERG, RecordType.ASSESSMENT_PGF))
    return rows[0].occurred_on if rows else None


def alert_for(plan: RiskPlan | None, latest: date | None, number: int | None = None) -> str:
    """The stale-plan alert for `plan`, named as version `number` (the reader's count, see
    `numbering`; the stored version when not given)."""
    if plan is not None and stale(plan.effective_on, latest):
        assert latest is not None
        return (
            f"Version {number or plan.version} of the plan ({plan.effective_on.isoformat()}) "
            "predates the latest "
            f"ERG 22+ or PGF ({latest.isoformat()}): review the plan."
        )
    return ""


def readable_versions(ctx: Ctx, case: Case, rows: list[RiskPlan]) -> list[RiskPlan]:
    """The versions among `rows` the user may read, decided without opening any: the only ones
    they may count, date or be alerted about."""
    return [
        p
        for p in rows
        if ctx.access.decide(
            ctx.session,
            ctx.subject,
            case_facts(ctx, case, Kind.PLAN, Classification.parse(p.classification)),
            Act.READ,
        ).allowed
    ]


def numbering(readable: list[RiskPlan]) -> dict[uuid.UUID, int]:
    """Version numbers as this reader counts them, 1, 2, ... over the versions they may read,
    oldest first: a version withheld from them (a SECRET one) never shows as a gap."""
    oldest_first = sorted(readable, key=lambda p: p.version)
    return {p.id: n for n, p in enumerate(oldest_first, start=1)}


def plan_versions(ctx: Ctx, case: Case) -> list[RiskPlan]:
    """Every version of the case's plan, newest first (none opened)."""
    return list(
        ctx.session.scalars(
            select(RiskPlan).where(RiskPlan.case_id == case.id).order_by(RiskPlan.version.desc())
        )
    )


def plans_for_case(ctx: Ctx, case_id: uuid.UUID | str) -> list[PlanView]:
    """Every version the user may read, newest first, with basis, countersignature and alert."""
    case = get_case(ctx, case_id)
    rows = plan_versions(ctx, case)
    event = Event(
        action="plan.read",
        object_type="plan",
        outcome="allow",
        label=OS,
        object_id=str(case.id),
        case_id=str(case.id),
    )
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        rows,
        lambda p: case_facts(ctx, case, Kind.PLAN, Classification.parse(p.classification)),
        event,
    )
    ids = [r.id for r, _ in opened.rows]
    basis: dict[uuid.UUID, list[Basis]] = {}
    signed: dict[uuid.UUID, PlanCountersignature] = {}
    if ids:
        for b in ctx.session.scalars(
            select(PlanBasis).where(PlanBasis.plan_id.in_(ids)).order_by(PlanBasis.dated)
        ):
            basis.setdefault(b.plan_id, []).append(
                Basis(b.record_id, RecordType(b.record_type), b.dated)
            )
        signed = {
            c.plan_id: c
            for c in ctx.session.scalars(
                select(PlanCountersignature).where(PlanCountersignature.plan_id.in_(ids))
            )
        }
    who = names(ctx, [r.author_id for r, _ in opened.rows] + [c.by_id for c in signed.values()])  # type: ignore[attr-defined]
    latest = latest_assessment(ctx, case) if rows else None
    readable = readable_versions(ctx, case, rows)
    number = numbering(readable)
    newest = readable[0].id if readable else None
    out = []
    for row, plain in opened.rows:
        p: RiskPlan = row  # type: ignore[assignment]
        sig = signed.get(p.id)
        out.append(
            PlanView(
                p.id,
                case.id,
                number[p.id],
                p.label,
                [Risk(c) for c in p.covers.split(",") if c],
                p.effective_on,
                who.get(p.author_id, ""),
                p.created_at,
                {k: plain.get(k) or "" for k in HEADINGS},
                plain.get("licence_conditions") or "",
                basis.get(p.id, []),
                who.get(sig.by_id, "") if sig else "",
                sig.at if sig else None,
                alert_for(p, latest, number[p.id]) if p.id == newest else "",
            )
        )
    return out


def latest_readable(ctx: Ctx, case: Case) -> tuple[RiskPlan | None, int]:
    """The newest version the user may read and its number as they count (0: none)."""
    readable = readable_versions(ctx, case, plan_versions(ctx, case))
    return (readable[0], len(readable)) if readable else (None, 0)


def plan_state(ctx: Ctx, case: Case) -> tuple[int, date | None, bool, bool]:
    """(latest version, its date, countersigned, stale) without opening any plan text, counting
    only the versions the user may read."""
    plan, number = latest_readable(ctx, case)
    if plan is None:
        return 0, None, False, False
    signed = ctx.session.scalar(
        select(PlanCountersignature.id).where(PlanCountersignature.plan_id == plan.id)
    )
    return (
        number,
        plan.effective_on,
        signed is not None,
        bool(alert_for(plan, latest_assessment(ctx, case), number)),
    )


def plan_alerts(ctx: Ctx, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """For dashboards: the stale-plan alert of each of these cases (the caller may open them)."""
    out = {}
    for cid in case_ids:
        case = get_case(ctx, cid)
        plan, number = latest_readable(ctx, case)
        alert = alert_for(plan, latest_assessment(ctx, case), number) if plan else ""
        if alert:
            out[cid] = alert
    return out
