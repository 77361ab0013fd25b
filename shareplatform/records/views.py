"""Posting records, a record with its supersession history, corrections, and who has seen it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, redirect, request, url_for

from ..access.facts import Facts, relation
from ..access.vocabulary import Act, Kind
from ..cases.models import Case
from ..cases.services import IDENTIFIER_TITLES, case_ref, case_view, get_case
from ..context import Ctx
from ..domain.agencies import Agency
from ..domain.cases import CaseCategory, Phase, RecordType
from ..domain.errors import InvalidValue, NotPermitted
from ..domain.labels import Classification
from ..records import services as records
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from .forms import FIELD_OF_KIND, CorrectionForm, RecordForm

bp = Blueprint("records", __name__, template_folder="templates")


def _prepare(form: RecordForm, c: Ctx, case: Case, record_type: str | None = None) -> None:
    labels = records.writable_labels(c, case, record_type or RecordType.CONTACT_OFFICE.value)
    if not labels:
        raise NotPermitted("You cannot add records to this case.")
    form.offer_labels(labels)
    form.exclude_agency(c.subject.agency)


def _new_record(form: RecordForm) -> records.NewRecord:
    record_type = form.record_type.data or ""
    joint = (
        [form.joint_agency.data]
        if form.joint_agency.data and record_type == "CONTACT_JOINT_VISIT"
        else []
    )
    assert form.occurred_on.data is not None
    return records.NewRecord(
        record_type=record_type,
        occurred_on=form.occurred_on.data,
        classification=form.classification.data or "",
        caveats=list(form.caveats.data or []),
        title=form.title.data or "",
        body=form.body.data or "",
        joint_agencies=joint,
    )


def _field_error(form: RecordForm, exc: InvalidValue) -> None:
    name = FIELD_OF_KIND.get(exc.kind)
    why = getattr(exc, "why", "") or ""
    field = getattr(form, name, None) if name else None
    message = why[:1].upper() + why[1:] if why else str(exc)
    if field is None:
        form.form_errors.append(message)
        field = form.title
    field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]


def _typed_label(form: RecordForm) -> str | None:
    """On a re-shown form the page displays what was typed, at the label the author chose."""
    value = form.classification.data
    return value if value in Classification.markings() else None


@bp.route("/cases/<case_id>/records/new", methods=["GET", "POST"])
@requires(Permission.RECORD_WRITE)
def new(case_id: str):
    c = ctx()
    case = get_case(c, case_id)
    form = RecordForm()
    _prepare(form, c, case)
    if form.validate_on_submit():
        try:
            record = records.post_record(c, case.id, _new_record(form))
        except InvalidValue as exc:  # nothing half-written: the whole use case rolls back
            rollback()
            _field_error(form, exc)
        else:
            return redirect(
                url_for("records.case", case_id=case.id, saved=record.id) + f"#record-{record.id}"
            )
    errors = bool(form.errors)
    return render(
        "records/form.html",
        _typed_label(form) if errors else None,
        form=form,
        case=case,
        heading="Add a record",
        action=url_for("records.new", case_id=case.id),
        status=400 if errors else 200,
    )


@bp.route("/records/<record_id>")
@requires(Permission.CASE_READ)
def record(record_id: str):
    c = ctx()
    view, history = records.record_page(c, record_id)
    case = c.session.get(Case, view.case_id)
    assert case is not None
    rel = relation(c.subject, case_ref(case))
    can_see_viewers = c.access.decide(
        c.session,
        c.subject,
        Facts.on(Kind.RECORD_AUDIT, Classification.parse(view.classification), rel),
        Act.READ,
    ).allowed
    can_correct = view.superseded_by is None and view.classification in {
        x.marking for x in records.writable_labels(c, case, view.record_type.value)
    }
    return render(
        "records/record.html",
        [view.classification, *[h.classification for h in history]],
        record=view,
        history=history,
        case=case,
        can_see_viewers=can_see_viewers,
        can_correct=can_correct,
    )


@bp.route("/records/<record_id>/correct", methods=["GET", "POST"])
@requires(Permission.RECORD_WRITE)
def correct(record_id: str):
    c = ctx()
    view, _ = records.record_page(c, record_id)
    case = get_case(c, view.case_id)
    form = CorrectionForm()
    _prepare(form, c, case, view.record_type.value)
    if not form.is_submitted():
        form.record_type.data = view.record_type.value
        form.occurred_on.data = view.occurred_on
        form.classification.data = view.classification
        form.caveats.data = sorted(c.value for c in view.label.caveats)
        others = [a for a in view.attendees if a != view.agency]
        form.joint_agency.data = others[0] if others and others[0] in Agency.__members__ else ""
        form.title.data = view.title
        form.body.data = view.body
    if form.validate_on_submit():
        try:
            new_record = records.correct_record(
                c, view.id, _new_record(form), form.reason.data or ""
            )
        except InvalidValue as exc:
            rollback()
            _field_error(form, exc)
        else:
            return redirect(url_for("records.record", record_id=new_record.id))
    errors = bool(form.errors)
    return render(
        "records/form.html",
        view.classification,
        _typed_label(form),
        form=form,
        case=case,
        heading="Correct a record",
        original=view,
        action=url_for("records.correct", record_id=view.id),
        status=400 if errors else 200,
    )


@bp.route("/records/<record_id>/seen")
@requires(Permission.RECORD_AUDIT_READ)
def seen(record_id: str):
    c = ctx()
    viewings = records.who_has_seen(c, record_id)
    view, _ = records.record_page(c, record_id)
    return render("records/seen.html", view.classification, record=view, viewings=viewings)


# -- the case page: the case, its team and one timeline of every agency's records -----------
@dataclass
class TimelineFilter:
    record_type: str = ""
    agency: str = ""
    date_from: date | None = None
    date_to: date | None = None
    raw: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.record_type or self.agency or self.date_from or self.date_to)


def _date_arg(name: str, title: str, f: TimelineFilter) -> date | None:
    parts = [(request.args.get(f"{name}-{p}") or "").strip() for p in ("day", "month", "year")]
    for p, v in zip(("day", "month", "year"), parts, strict=True):
        f.raw[f"{name}-{p}"] = v[:4]
    if not any(parts):
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        f.errors.append(
            {"text": f"{title} must be a real date, for example 27 3 2024", "href": f"#{name}-day"}
        )
        return None


def parse_filter() -> TimelineFilter:
    f = TimelineFilter()
    rtype = (request.args.get("type") or "").strip()
    if rtype:
        if rtype in RecordType.__members__:
            f.record_type = rtype
        else:
            f.errors.append({"text": "Select a type from the list", "href": "#type"})
    agency = (request.args.get("agency") or "").strip()
    if agency:
        if agency in Agency.__members__:
            f.agency = agency
        else:
            f.errors.append({"text": "Select an agency from the list", "href": "#agency"})
    f.date_from = _date_arg("from", "The start date", f)
    f.date_to = _date_arg("to", "The end date", f)
    if f.date_from and f.date_to and f.date_from > f.date_to:
        f.errors.append(
            {"text": "The start date must be on or before the end date", "href": "#from-day"}
        )
    return f


@bp.route("/cases/<case_id>")
@requires(Permission.CASE_READ)
def case(case_id: str):
    c = ctx()
    view = case_view(c, case_id)
    f = parse_filter()
    timeline = records.timeline(
        c,
        view.case,
        record_type=f.record_type or None,
        agency=f.agency or None,
        date_from=f.date_from,
        date_to=f.date_to,
    )
    can_write = records.can_write_any(c, view.case)
    labels: list[Classification | str | None] = [view.nominal.label, timeline.highest]
    if view.team or view.levels:
        labels.append(Classification.OFFICIAL_SENSITIVE)
    return render(
        "records/case.html",
        labels,
        view=view,
        can_write=can_write,
        timeline=timeline,
        filter=f,
        identifier_titles=IDENTIFIER_TITLES,
        category_title=CaseCategory(view.case.category).title,
        phase_title=Phase(view.case.phase).title,
        record_types=[t for t in RecordType],
        agencies=[a for a in Agency if a is not Agency.PLATFORM],
        status=400 if f.errors else 200,
    )
