"""Posting records, a record with its supersession history, corrections, and who has seen it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from flask import Blueprint, jsonify, redirect, request, url_for

from ..access.facts import Facts, relation
from ..access.vocabulary import Act, Kind
from ..cases.models import Case
from ..cases.services import IDENTIFIER_TITLES, case_ref, case_view, get_case
from ..cases.summary import summary_for
from ..context import Ctx
from ..domain.agencies import Agency
from ..domain.cases import CaseCategory, Phase, RecordType
from ..domain.errors import Conflict, DomainError, InvalidValue, NotPermitted
from ..domain.labels import Classification
from ..mappa.actions import case_actions, shown_label
from ..records import services as records
from ..web import db_session, platform
from ..web.forms import plain_message
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from . import writing
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
    field = getattr(form, name, None) if name else None
    message = plain_message(exc)  # a sentence, never a code or a list of codes
    if field is None:
        form.form_errors.append(message)
        field = form.title
    field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]


def _refused(form: RecordForm, exc: NotPermitted) -> None:
    """A downgrade the user may not make belongs to the label; a correction overtaken by
    another (Conflict) to the form as a whole."""
    field = form.title if isinstance(exc, Conflict) else form.classification
    message = str(exc)
    if isinstance(exc, Conflict):
        form.form_errors.append(message)
    field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]


def _born_on(c: Ctx, case: Case) -> date | None:
    """The person's date of birth, when this user may read it: a date before it is impossible."""
    try:
        dob = case_view(c, case.id).nominal.date_of_birth
        return date.fromisoformat(dob) if dob else None
    except (DomainError, ValueError):
        return None


def _bound_dates(form: RecordForm, c: Ctx, case: Case) -> None:
    form.today = c.today
    if form.occurred_on.data is not None:
        form.born_on = _born_on(c, case)


def _landed(case: Case, record_id: object):
    return redirect(
        url_for("records.case", case_id=case.id, saved=record_id) + f"#record-{record_id}"
    )


def _post_once(c: Ctx, case: Case, form: RecordForm, post):
    """Post through `post()` once per rendered form: returns the record's id (this post's, or
    the earlier one's when the same form was posted twice), or None with errors on the form."""
    try:
        record = post()
        earlier = writing.claim_submission(c, form.submission.data, record.id)
    except InvalidValue as exc:  # nothing half-written: the whole use case rolls back
        rollback()
        _field_error(form, exc)
        return None
    except NotPermitted as exc:  # refused before anything was written (the refusal is audited):
        # the form comes back with what was typed and why, not an error page that loses it
        _refused(form, exc)
        return None
    if earlier is not None:  # a concurrent post of the same form (a double click) won
        rollback()
        return earlier
    writing.discard_kept(c, form.kept.data)
    return record.id


def _restore(c: Ctx, case: Case, form: RecordForm) -> str:
    """Fill a fresh form with what its author was writing: a form kept when their session
    ended (`?restore=`), else their draft. Returns what the page tells them."""
    kept_id = request.args.get("restore")
    kept = writing.restore_form(c, case, kept_id) if kept_id else None
    if kept is not None:
        form.fill(kept)
        form.kept.data = kept_id
        return "restored"
    drafted = writing.load_draft(c, case) if isinstance(form, RecordForm) else None
    if drafted is not None and not isinstance(form, CorrectionForm):
        form.fill(drafted[0])
        return "draft"
    return ""


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
    restored = ""
    if form.is_submitted():
        earlier = writing.posted_with(c, form.submission.data)
        if earlier is not None:  # Back and post again: the record exists, land on it
            return _landed(case, earlier)
        if request.form.get("action") == "draft":  # "Save draft", or the timeout warning
            writing.save_draft(c, case, writing.content_of(request.form))
            return redirect(url_for("records.new", case_id=case.id, draft="saved"))
        _bound_dates(form, c, case)
        if form.validate():
            posted = _post_once(
                c, case, form, lambda: records.post_record(c, case.id, _new_record(form))
            )
            if posted is not None:
                writing.discard_draft(c, case)
                return _landed(case, posted)
    else:
        restored = _restore(c, case, form)
        form.submission.data = writing.new_submission_token()
    errors = bool(form.errors)
    return render(
        "records/form.html",
        _typed_label(form) if errors or restored else None,
        form=form,
        case=case,
        heading="Add a record",
        action=url_for("records.new", case_id=case.id),
        autosave=url_for("records.autosave", case_id=case.id),
        restored=restored or request.args.get("draft", "")[:5],
        status=400 if errors else 200,
    )


@bp.route("/cases/<case_id>/records/draft", methods=["POST"])
@requires(Permission.RECORD_WRITE)
def autosave(case_id: str):
    """The draft of a note as it is written (shareplatform/static/js/autosave.js, every 30 s
    while the text changes). CSRF-checked like every POST."""
    c = ctx()
    case = get_case(c, case_id)
    content = writing.content_of(request.form)
    if not (str(content.get("title", "")).strip() or str(content.get("body", "")).strip()):
        return jsonify({"saved": False})
    saved_at = writing.save_draft(c, case, content)
    return jsonify({"saved": True, "saved_at": f"{saved_at:%H:%M}"})


def keep_posted(user_id: uuid.UUID) -> str | None:
    """The keeper of the record forms (shareplatform/web/forms.py `keep_on_timeout`): a form
    posted after its author's session ended is sealed for them; returns where they resume."""
    p = platform()
    today = date.today()
    subject = p.access.subject(db_session(), user_id, today)
    if subject.clearance is None:
        return None
    c = Ctx(db_session(), p.access, subject, p.indexer, today)
    args = request.view_args or {}
    content = writing.content_of(request.form)
    try:
        if request.endpoint == "records.correct":
            # the record's case only, nothing opened: there is no live session to read with
            record_id, case_id = records.case_of_record(c, args["record_id"])
            kept = writing.keep_form(c, get_case(c, case_id), request.path, content)
            return url_for("records.correct", record_id=record_id, restore=kept)
        case = get_case(c, args["case_id"])
        kept = writing.keep_form(c, case, request.path, content)
        return url_for("records.new", case_id=case.id, restore=kept)
    except (DomainError, KeyError):
        return None


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
        _restore(c, case, form)
        form.submission.data = writing.new_submission_token()
    else:
        earlier = writing.posted_with(c, form.submission.data)
        if earlier is not None:  # Back and post again: the correction exists, land on it
            return redirect(url_for("records.record", record_id=earlier))
        _bound_dates(form, c, case)
        if form.validate():
            posted = _post_once(
                c,
                case,
                form,
                lambda: records.correct_record(
                    c, view.id, _new_record(form), form.reason.data or ""
                ),
            )
            if posted is not None:
                return redirect(url_for("records.record", record_id=posted))
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
    record_types: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    raw: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.record_types or self.agencies or self.date_from or self.date_to)

    def matches(self, item: object) -> bool:
        """A joint visit is listed under every agency that attended it. A withheld item (no type
        or agency to show) is listed only when no type or agency is chosen: matching it would tell
        the reader its type or agency."""
        if not (self.record_types or self.agencies):
            return True
        rtype = getattr(item, "record_type", None)
        if rtype is None:
            return False
        agencies = {getattr(item, "agency", ""), *getattr(item, "attendees", [])}
        type_ok = not self.record_types or getattr(rtype, "value", rtype) in self.record_types
        return type_ok and (not self.agencies or bool(agencies & set(self.agencies)))


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
    types = [t.strip() for t in request.args.getlist("type") if t.strip()][:40]
    f.record_types = [t for t in types if t in RecordType.__members__]
    if len(f.record_types) < len(types):
        f.errors.append({"text": "Select a type from the list", "href": "#type"})
    agencies = [a.strip() for a in request.args.getlist("agency") if a.strip()][:10]
    f.agencies = [a for a in agencies if a in Agency.__members__]
    if len(f.agencies) < len(agencies):
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
        # one type filters in SQL; several types, and agencies (a joint visit belongs to each
        # agency that attended), are matched below on what the reader may see
        record_type=f.record_types[0] if len(f.record_types) == 1 else None,
        date_from=f.date_from,
        date_to=f.date_to,
    )
    timeline.items = [item for item in timeline.items if f.matches(item)]
    # agreed MAPPA actions the reader may see (the access layer decides and audits each one)
    mappa_actions = [] if f.active else case_actions(c, view.case)
    summary = summary_for(c, view)
    can_write = records.can_write_any(c, view.case)
    labels: list[Classification | str | None] = [view.nominal.label, timeline.highest]
    if view.team or view.levels:
        labels.append(Classification.OFFICIAL_SENSITIVE)
    if summary is not None:
        labels.append(getattr(summary, "highest", Classification.OFFICIAL_SENSITIVE))
    labels += [shown_label(a) for a in mappa_actions]
    return render(
        "records/case.html",
        labels,
        mappa_actions=mappa_actions,
        view=view,
        can_write=can_write,
        timeline=timeline,
        versions=fold_versions(timeline.items),
        summary=summary,
        filter=f,
        identifier_titles=IDENTIFIER_TITLES,
        category_title=CaseCategory(view.case.category).title,
        phase_title=Phase(view.case.phase).title,
        record_types=[t for t in RecordType],
        agencies=[a for a in Agency if a is not Agency.PLATFORM],
        status=400 if f.errors else 200,
    )


def fold_versions(items: list) -> dict[object, list]:
    """Superseded versions folded under the latest version listed: {latest id: [older, ...]}.
    A version whose successor is not listed (filtered out, or not readable) stays on its own."""
    listed = {getattr(i, "id", None): i for i in items if getattr(i, "id", None) is not None}
    folded: dict[object, list] = {}
    for item in items:
        latest, newer = item, getattr(item, "superseded_by", None)
        while newer is not None and newer in listed:
            latest = listed[newer]
            newer = getattr(latest, "superseded_by", None)
        if latest is not item:
            folded.setdefault(latest.id, []).append(item)
    return folded
