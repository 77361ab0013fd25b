"""Recommendation 5: enhanced national standards per case and across the viewer's cases."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select

from ..access.facts import Facts, relation
from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import case_ref, get_case
from ..context import Ctx
from ..crypto.attested import attested_columns, attestor_of
from ..domain.labels import Classification
from ..lifecycle.licence import condition_periods
from ..lifecycle.release_models import LicenceCondition
from ..records.models import Record
from ..records.visibility import record_filter
from .scope import OS, Scope, live
from .settings import DEFAULT_REPORT_SETTINGS, ReportSettings
from .source import figures
from .standards import (
    CONTACTS,
    DURATION_STANDARDS,
    SUPERVISED,
    CaseFacts,
    Compliance,
    Status,
    evaluate,
    evaluate_duration,
)

log = logging.getLogger("shareplatform.integrity")


def _facts(case: Case) -> CaseFacts:
    return CaseFacts(case.phase, case.mappa_level, case.release_date)


def case_compliance(
    ctx: Ctx, case_id: uuid.UUID | str, settings: ReportSettings = DEFAULT_REPORT_SETTINGS
) -> tuple[Case, list[Compliance]]:
    """Each standard judged on one case from the contacts the viewer may read (audited once)."""
    case = get_case(ctx, case_id)
    readable = record_filter(ctx, case_ref(case))
    contacts = (
        figures(ctx)
        .execute(
            select(Record.record_type, Record.occurred_on).where(
                Record.case_id == case.id, Record.record_type.in_(CONTACTS), readable
            )
        )
        .all()
    )
    ctx.access.record(
        ctx.session,
        ctx.subject,
        Event(
            action="reports.standards",
            object_type="case",
            outcome="allow",
            label=OS,
            object_id=str(case.id),
            case_id=str(case.id),
            detail={"contacts": len(contacts)},
        ),
    )
    pairs = [(t, d) for t, d in contacts]
    results = [evaluate(s, _facts(case), pairs, ctx.today) for s in settings.standards]
    # approved premises and electronic monitoring, from the licence conditions the viewer may read
    conditions = condition_periods(ctx, case)
    results += [
        evaluate_duration(s, _facts(case), conditions, ctx.today) for s in DURATION_STANDARDS
    ]
    return case, results


@dataclass
class StandardSummary:
    title: str
    code: str
    cases: int = 0  # cases within the standard's window
    met: int = 0
    not_met: int = 0
    not_due: int = 0
    not_applicable: int = 0  # supervised, released cases the standard does not apply to
    periods_judged: int = 0
    periods_met: int = 0
    failing: list[tuple[str, uuid.UUID, float | None]] = field(
        default_factory=list
    )  # own scope only

    @property
    def rate(self) -> float | None:
        return self.periods_met / self.periods_judged if self.periods_judged else None


def scope_compliance(
    ctx: Ctx, scope: Scope, settings: ReportSettings = DEFAULT_REPORT_SETTINGS
) -> list[StandardSummary]:
    """Every standard over the viewer's supervised cases, from the contacts they may count."""
    cases = (
        figures(ctx)
        .execute(
            select(Case.id, Case.reference, Case.phase, Case.mappa_level, Case.release_date).where(
                scope.cases(),
                Case.phase.in_(SUPERVISED),
                Case.release_date.is_not(None),
                Case.release_date <= ctx.today,
            )
        )
        .all()
    )
    facts = {
        cid: (ref, CaseFacts(phase, level, release)) for cid, ref, phase, level, release in cases
    }
    summaries = [StandardSummary(s.title, s.code) for s in settings.standards]
    durations = [StandardSummary(s.title, s.code) for s in DURATION_STANDARDS]
    if not facts:
        return summaries + durations
    oldest = min(f.release_date for _, f in facts.values() if f.release_date is not None)
    contacts: dict[uuid.UUID, list[tuple[str, date]]] = {}
    rows = figures(ctx).execute(
        select(Record.case_id, Record.record_type, Record.occurred_on)
        .join(Case, Case.id == Record.case_id)
        .where(
            scope.cases(),
            Case.phase.in_(SUPERVISED),
            Case.release_date.is_not(None),
            Record.record_type.in_(CONTACTS),
            Record.occurred_on >= oldest,
            scope.records(),
        )
    )
    for cid, rtype, day in rows:
        contacts.setdefault(cid, []).append((rtype, day))
    for standard, summary in zip(settings.standards, summaries, strict=True):
        for cid, (ref, f) in facts.items():
            _count(
                summary, evaluate(standard, f, contacts.get(cid, []), ctx.today), ref, cid, scope
            )
        summary.failing.sort(key=lambda x: (x[2] or 0.0, x[0]))
    # approved premises and electronic monitoring, from the licence conditions the viewer may read
    periods = scope_condition_periods(ctx, scope)
    for duration, summary in zip(DURATION_STANDARDS, durations, strict=True):
        for cid, (ref, f) in facts.items():
            result = evaluate_duration(duration, f, periods.get(cid, []), ctx.today)
            _count(summary, result, ref, cid, scope)
        summary.failing.sort(key=lambda x: x[0])
    return summaries + durations


def _count(
    summary: StandardSummary, result: Compliance, ref: str, cid: uuid.UUID, scope: Scope
) -> None:
    if result.status is Status.NOT_APPLICABLE:
        summary.not_applicable += 1
        return
    summary.cases += 1
    summary.periods_judged += result.periods_judged
    summary.periods_met += result.periods_met
    if result.status is Status.MET:
        summary.met += 1
    elif result.status is Status.NOT_MET:
        summary.not_met += 1
        if not scope.national:
            summary.failing.append((ref, cid, result.rate))
    else:
        summary.not_due += 1


def scope_condition_periods(
    ctx: Ctx, scope: Scope
) -> dict[uuid.UUID, list[tuple[str, date, date | None]]]:
    """(type, start, end) of the current licence conditions on the scope's released, supervised
    cases, at labels whose plan the viewer may read there (one decision per label and group).
    Only type and dates are read, nothing is decrypted; a version whose stamp does not verify is
    left out (and remembered as an integrity failure), as on the case's own standards page."""
    released = and_(
        scope.cases(),
        Case.phase.in_(SUPERVISED),
        Case.release_date.is_not(None),
        Case.release_date <= ctx.today,
    )
    readable: list[ColumnElement[bool]] = [
        and_(
            LicenceCondition.classification == label.marking,
            LicenceCondition.case_id.in_(
                select(Case.id).where(released, scope.where_allowed(ctx, Kind.PLAN, label))
            ),
        )
        for label in Classification
    ]
    replaced = select(LicenceCondition.supersedes_id).where(
        LicenceCondition.supersedes_id.is_not(None)
    )
    # read where the figures are read; checked with the request's key (a standby's sessions
    # need not hold it), a forged version reported as the access layer reports one
    attestor = attestor_of(ctx.session)
    table = LicenceCondition.__table__
    columns = [table.c[n] for n in attested_columns(LicenceCondition)] + [table.c.facts_mac]
    query = select(*columns).where(
        or_(*readable), LicenceCondition.id.not_in(replaced), live(LicenceCondition)
    )
    out: dict[uuid.UUID, list[tuple[str, date, date | None]]] = {}
    forged = []
    for row in figures(ctx).execute(query).mappings():
        if attestor.intact(LicenceCondition, row):
            out.setdefault(row["case_id"], []).append(
                (row["condition_type"], row["starts_on"], row["ends_on"])
            )
        else:
            forged.append(f"{LicenceCondition.__tablename__}/{row['id']}")
    if forged:
        log.error("integrity check failed: %s (left out of the standards)", ", ".join(forged))
        ctx.access.record(
            ctx.session,
            ctx.subject,
            Event(
                action="integrity.fail",
                object_type="licence_condition",
                outcome="fail",
                reason="authorisation facts do not match their stamp",
                detail={"rows": forged},
            ),
        )
    return out


def contact_dates(ctx: Ctx, case: Case) -> list[tuple[str, date]]:
    """Contacts on one case the viewer may read (for workload and tests)."""
    rel = relation(ctx.subject, case_ref(case))
    if not ctx.access.decide(
        ctx.session, ctx.subject, Facts.on(Kind.CASE, OS, rel), Act.READ
    ).allowed:
        return []
    readable = record_filter(ctx, case_ref(case))
    rows = figures(ctx).execute(
        select(Record.record_type, Record.occurred_on).where(
            Record.case_id == case.id, Record.record_type.in_(CONTACTS), readable
        )
    )
    return [(t, d) for t, d in rows]
