"""Licence conditions as structured data: type, start and end dates, details (sealed). They are
part of the risk management plan, so policy treats them as the plan (kind `plan`, labelled,
OFFICIAL-SENSITIVE by default), and they feed the enhanced national standards on approved
premises residence and electronic monitoring (shareplatform/reports/standards.py)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import get_case
from ..context import Ctx
from ..domain.errors import InvalidValue
from ..domain.labels import Classification, Label
from .common import OS, case_facts, demand, may, names, write_own
from .release_models import LicenceCondition


class ConditionType(enum.StrEnum):
    APPROVED_PREMISES = "APPROVED_PREMISES"
    EM_CURFEW_TAG = "EM_CURFEW_TAG"
    EM_GPS_TRAIL = "EM_GPS_TRAIL"
    CURFEW = "CURFEW"
    EXCLUSION_ZONE = "EXCLUSION_ZONE"
    NON_ASSOCIATION = "NON_ASSOCIATION"
    CONTACT_RESTRICTION = "CONTACT_RESTRICTION"
    REPORTING = "REPORTING"

    @property
    def title(self) -> str:  # type: ignore[override]
        return _TITLES[self]

    @classmethod
    def parse(cls, value: object) -> ConditionType:
        try:
            return cls(str(value or "").strip().upper())
        except ValueError:
            raise InvalidValue(
                "condition type", value, why="choose the type of licence condition"
            ) from None


_TITLES = {
    ConditionType.APPROVED_PREMISES: "Approved premises residence",
    ConditionType.EM_CURFEW_TAG: "Electronic monitoring: curfew tag",
    ConditionType.EM_GPS_TRAIL: "Electronic monitoring: GPS trail monitoring",
    ConditionType.CURFEW: "Curfew",
    ConditionType.EXCLUSION_ZONE: "Exclusion zone",
    ConditionType.NON_ASSOCIATION: "Non-association",
    ConditionType.CONTACT_RESTRICTION: "Contact restrictions",
    ConditionType.REPORTING: "Reporting",
}
ELECTRONIC_MONITORING = frozenset({ConditionType.EM_CURFEW_TAG, ConditionType.EM_GPS_TRAIL})


@dataclass(frozen=True)
class NewCondition:
    condition_type: str
    starts_on: date | None
    ends_on: date | None = None
    details: str = ""
    classification: str = OS.marking


@dataclass(frozen=True)
class ConditionView:
    id: uuid.UUID
    condition_type: ConditionType
    starts_on: date
    ends_on: date | None
    details: str
    label: Label
    author: str
    created_at: datetime


def record_condition(ctx: Ctx, case_id: uuid.UUID | str, data: NewCondition) -> LicenceCondition:
    """A new licence condition on the case, written by the case team (as the plan is)."""
    case = get_case(ctx, case_id)
    label = Classification.parse(data.classification or OS.marking)
    demand(
        ctx,
        case,
        kind=Kind.PLAN,
        act=Act.WRITE,
        label=label,
        event=Event(
            action="licence.write",
            object_type="licence_condition",
            outcome="done",
            label=label,
            case_id=str(case.id),
        ),
        message="Only the case team and its managers may record licence conditions.",
    )
    kind = ConditionType.parse(data.condition_type)
    if data.starts_on is None:
        raise InvalidValue("start date", "", why="enter the date the condition starts")
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise InvalidValue(
            "end date", data.ends_on.isoformat(), why="must be on or after the start date"
        )
    details = (data.details or "").strip()
    if len(details) > 5_000:
        raise InvalidValue("details", details[:20] + "...", why="must be 5000 characters or fewer")
    row = LicenceCondition(
        id=uuid.uuid4(),
        case_id=case.id,
        condition_type=kind.value,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        author_id=ctx.subject.user_id,
        classification=label.marking,
        caveats="",
    )
    write_own(
        ctx,
        case,
        Kind.PLAN,
        row,
        {"details": details or None},
        "licence.write",
        str(row.id),
        {"type": kind.value},
        label=label,
    )
    return row


def _current(ctx: Ctx, case: Case) -> list[LicenceCondition]:
    replaced = select(LicenceCondition.supersedes_id).where(
        LicenceCondition.case_id == case.id, LicenceCondition.supersedes_id.is_not(None)
    )
    return list(
        ctx.session.scalars(
            select(LicenceCondition)
            .where(LicenceCondition.case_id == case.id, LicenceCondition.id.not_in(replaced))
            .order_by(LicenceCondition.starts_on, LicenceCondition.created_at)
        )
    )


def conditions_for_case(ctx: Ctx, case: Case) -> list[ConditionView]:
    """The case's current conditions the user may read (details opened, audited once)."""
    rows = _current(ctx, case)
    opened = ctx.access.read(
        ctx.session,
        ctx.subject,
        rows,
        lambda r: case_facts(ctx, case, Kind.PLAN, Classification.parse(r.classification)),
        Event(
            action="licence.read",
            object_type="licence_condition",
            outcome="allow",
            label=OS,
            object_id=str(case.id),
            case_id=str(case.id),
        ),
    )
    who = names(ctx, [r.author_id for r, _ in opened.rows])  # type: ignore[attr-defined]
    return [
        ConditionView(
            r.id,
            ConditionType(r.condition_type),  # type: ignore[attr-defined]
            r.starts_on,  # type: ignore[attr-defined]
            r.ends_on,  # type: ignore[attr-defined]
            plain.get("details") or "",
            r.label,
            who.get(r.author_id, ""),  # type: ignore[attr-defined]
            r.created_at,  # type: ignore[attr-defined]
        )
        for r, plain in opened.rows
    ]


def condition_periods(ctx: Ctx, case: Case) -> list[tuple[str, date, date | None]]:
    """(type, start, end) of the case's current conditions at labels the user may read, for the
    standards: no free text is opened, so nothing is decrypted."""
    readable: dict[str, bool] = {}
    out = []
    for row in _current(ctx, case):
        if not row.facts_intact:
            continue
        ok = readable.get(row.classification)
        if ok is None:
            ok = readable[row.classification] = may(
                ctx, case, kind=Kind.PLAN, label=Classification.parse(row.classification)
            )
        if ok:
            out.append((row.condition_type, row.starts_on, row.ends_on))
    return out
