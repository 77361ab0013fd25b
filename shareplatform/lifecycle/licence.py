"""Licence conditions as structured data: type, start and end dates, details (sealed). They are
part of the risk management plan, so policy treats them as the plan (kind `plan`, labelled,
OFFICIAL-SENSITIVE by default), and they feed the enhanced national standards on approved
premises residence and electronic monitoring (shareplatform/reports/standards.py).

A condition is varied or ended by a new version that supersedes the current one, with a reason
(sealed, and audited); earlier versions are kept and shown to those who may read them. Type and
dates are stamped facts (release_models.py): a version whose stamp does not verify is withheld
with an integrity marker and never counted."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import select

from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.models import Case
from ..cases.services import get_case
from ..context import Ctx
from ..domain.errors import Conflict, InvalidValue, NotFound
from ..domain.labels import Classification, Label
from .common import OS, case_facts, demand, may, names, need, parse_id, write_own
from .release_models import LicenceCondition

if TYPE_CHECKING:
    from ..access.kernel import Opened


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


WITHHELD = (
    "This licence condition failed its integrity check, so it is withheld and not counted by "
    "the national standards. The failure has been recorded and the service team alerted."
)


class Change(enum.StrEnum):
    """How a version came about (stored in `change`; None: the condition as first added)."""

    VARIED = "VARIED"
    ENDED = "ENDED"

    @property
    def title(self) -> str:  # type: ignore[override]
        return "Changed" if self is Change.VARIED else "Ended"


@dataclass(frozen=True)
class NewCondition:
    condition_type: str
    starts_on: date | None
    ends_on: date | None = None
    details: str = ""
    classification: str = OS.marking


@dataclass(frozen=True)
class ConditionView:
    """One version of a condition as its reader sees it; `condition_type` None: withheld (its
    stamp did not verify), with nothing of it shown."""

    id: uuid.UUID
    condition_type: ConditionType | None
    starts_on: date | None
    ends_on: date | None
    details: str
    label: Label
    author: str
    created_at: datetime | None
    change: Change | None = None
    reason: str = ""
    history: tuple[ConditionView, ...] = field(default=())  # earlier versions, newest first

    @property
    def withheld(self) -> bool:
        return self.condition_type is None


def _checked(data: NewCondition) -> tuple[ConditionType, date, str]:
    """The type, start date and details of a version, or InvalidValue (nothing written)."""
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
    return kind, data.starts_on, details


def _event(action: str, case: Case, label: Classification, object_id: str = "") -> Event:
    return Event(
        action=action,
        object_type="licence_condition",
        outcome="done",
        label=label,
        object_id=object_id,
        case_id=str(case.id),
    )


def _demand_write(ctx: Ctx, case: Case, label: Classification, action: str, oid: str = "") -> None:
    demand(
        ctx,
        case,
        kind=Kind.PLAN,
        act=Act.WRITE,
        label=label,
        event=_event(action, case, label, oid),
        message="Only the case team and its managers may record licence conditions.",
    )


def record_condition(ctx: Ctx, case_id: uuid.UUID | str, data: NewCondition) -> LicenceCondition:
    """A new licence condition on the case, written by the case team (as the plan is)."""
    case = get_case(ctx, case_id)
    label = Classification.parse(data.classification or OS.marking)
    _demand_write(ctx, case, label, "licence.write")
    kind, starts_on, details = _checked(data)
    row = _version(ctx, case, (kind, starts_on, data.ends_on), label.marking, "")
    detail: dict[str, object] = {"type": kind.value}
    plain = {"details": details or None}
    write_own(ctx, case, Kind.PLAN, row, plain, "licence.write", str(row.id), detail, label=label)
    return row


def vary_condition(
    ctx: Ctx, case_id: uuid.UUID | str, condition_id: object, data: NewCondition, reason: str
) -> LicenceCondition:
    """A variation: a new version (type, dates, details) superseding the current one, at its
    label, with a reason. The old version is kept."""
    case = get_case(ctx, case_id)
    old, plain = _to_change(ctx, case, condition_id, "licence.vary")
    kind, starts_on, details = _checked(data)
    why = need("reason", reason, "say why the condition is being changed", 2_000)
    same = (old.condition_type, old.starts_on, old.ends_on, plain.get("details") or "")
    if (kind.value, starts_on, data.ends_on, details) == same:
        raise InvalidValue("condition", "", why="change its type, dates or details")
    return _supersede(ctx, case, old, (kind, starts_on, data.ends_on, details), Change.VARIED, why)


def end_condition(
    ctx: Ctx, case_id: uuid.UUID | str, condition_id: object, ends_on: date | None, reason: str
) -> LicenceCondition:
    """Ending: a new version with the same terms and an end date, superseding the current one."""
    case = get_case(ctx, case_id)
    old, plain = _to_change(ctx, case, condition_id, "licence.end")
    if ends_on is None:
        raise InvalidValue("end date", "", why="enter the date the condition ends")
    if ends_on < old.starts_on:
        raise InvalidValue("end date", ends_on.isoformat(), why="must be on or after its start")
    if old.ends_on is not None and ends_on > old.ends_on:
        raise InvalidValue(
            "end date", ends_on.isoformat(), why="must be on or before its current end date"
        )
    why = need("reason", reason, "say why the condition is ending", 2_000)
    terms = (ConditionType(old.condition_type), old.starts_on, ends_on, plain.get("details") or "")
    return _supersede(ctx, case, old, terms, Change.ENDED, why)


def _version(
    ctx: Ctx,
    case: Case,
    terms: tuple[ConditionType, date, date | None],
    classification: str,
    caveats: str,
) -> LicenceCondition:
    """A new version by the acting user, not yet sealed or stamped."""
    kind, starts_on, ends_on = terms
    return LicenceCondition(
        id=uuid.uuid4(),
        case_id=case.id,
        condition_type=kind.value,
        starts_on=starts_on,
        ends_on=ends_on,
        author_id=ctx.subject.user_id,
        classification=classification,
        caveats=caveats,
    )


def _supersede(
    ctx: Ctx,
    case: Case,
    old: LicenceCondition,
    terms: tuple[ConditionType, date, date | None, str],
    change: Change,
    reason: str,
) -> LicenceCondition:
    kind, starts_on, ends_on, details = terms
    label = Classification.parse(old.classification)
    row = _version(ctx, case, (kind, starts_on, ends_on), old.classification, old.caveats)
    row.supersedes_id, row.change = old.id, change.value
    detail: dict[str, object] = {"type": kind.value, "supersedes": str(old.id), "reason": reason}
    action = "licence.vary" if change is Change.VARIED else "licence.end"
    plain = {"details": details or None, "reason": reason}
    write_own(ctx, case, Kind.PLAN, row, plain, action, str(row.id), detail, label=label)
    return row


def _to_change(
    ctx: Ctx, case: Case, condition_id: object, action: str
) -> tuple[LicenceCondition, dict[str, str | None]]:
    """The current version the user may read and write (opened, audited); NotFound for one that
    is not on this case, not theirs to read or failed its integrity check (as an unknown id)."""
    row = ctx.session.get(LicenceCondition, parse_id(condition_id, "licence condition"))
    if row is None or row.case_id != case.id:
        raise NotFound("licence condition")
    opened = _open(ctx, case, [row])
    if not opened.rows:
        raise NotFound("licence condition")
    label = Classification.parse(row.classification)
    _demand_write(ctx, case, label, action, str(row.id))
    later = select(LicenceCondition.id).where(LicenceCondition.supersedes_id == row.id)
    if ctx.session.scalar(later) is not None:
        raise Conflict("This condition has been changed since: change its current version.")
    return row, opened.rows[0][1]


def condition_to_change(ctx: Ctx, case: Case, condition_id: object) -> ConditionView:
    """The current version for the Change and End forms (403 for a reader who may not write)."""
    row, plain = _to_change(ctx, case, condition_id, "licence.vary")
    return _view(row, plain, names(ctx, [row.author_id]))


def _open(ctx: Ctx, case: Case, rows: list[LicenceCondition]) -> Opened:
    return ctx.access.read(
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


def _view(
    r: LicenceCondition, plain: dict[str, str | None], who: dict[uuid.UUID, str]
) -> ConditionView:
    return ConditionView(
        r.id,
        ConditionType(r.condition_type),
        r.starts_on,
        r.ends_on,
        plain.get("details") or "",
        r.label,
        who.get(r.author_id, ""),
        r.created_at,
        Change(r.change) if r.change else None,
        plain.get("reason") or "",
    )


def conditions_for_case(ctx: Ctx, case: Case) -> list[ConditionView]:
    """The case's current conditions the user may read (details opened, audited once), each with
    its earlier versions; a current version failing its integrity check is a withheld marker."""
    rows = list(
        ctx.session.scalars(
            select(LicenceCondition)
            .where(LicenceCondition.case_id == case.id)
            .order_by(LicenceCondition.created_at)
        )
    )
    if not rows:
        return []
    opened = _open(ctx, case, rows)
    readable = [(cast(LicenceCondition, r), plain) for r, plain in opened.rows]
    who = names(ctx, [r.author_id for r, _ in readable])
    views = {r.id: _view(r, plain, who) for r, plain in readable}
    failed = {r.id for r in opened.failed}
    out = []
    for row in _current(ctx, case):
        if row.id in failed:
            out.append(ConditionView(row.id, None, None, None, "", Label.of(OS, ""), "", None))
        elif row.id in views:
            out.append(_with_history(views, rows, views[row.id]))
    return out


def _with_history(
    views: dict[uuid.UUID, ConditionView], rows: list[LicenceCondition], view: ConditionView
) -> ConditionView:
    """The version with the earlier ones it supersedes that the reader may read, newest first."""
    parent = {r.id: r.supersedes_id for r in rows}
    earlier: list[ConditionView] = []
    step = parent.get(view.id)
    while step is not None and step in views and len(earlier) < len(rows):
        earlier.append(views[step])
        step = parent.get(step)
    return dataclasses.replace(view, history=tuple(earlier))


def condition_periods(ctx: Ctx, case: Case) -> list[tuple[str, date, date | None]]:
    """(type, start, end) of the case's current conditions at labels the user may read, for the
    standards: no free text is opened, so nothing is decrypted. A version whose stamp does not
    verify is left out (its type and dates are not to be believed)."""
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
