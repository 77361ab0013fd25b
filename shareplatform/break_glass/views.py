"""Emergency ("break-glass") access: take it for a case by reference or by the person's PNC ID,
NOMIS number or CRN (shareplatform/cases/search.py), and review its use.

The services in break_glass/services.py decide, audit and store; this module parses the form,
maps their errors to fields and renders. A case that does not exist and a case the user may not
take emergency access to get the same words, so the form reveals nothing about either.
"""

from __future__ import annotations

import re

from flask import Blueprint, redirect, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from ..access.facts import relation
from ..audit.log import Event
from ..break_glass import services as service
from ..cases.models import Case
from ..cases.search import case_for_emergency
from ..cases.services import case_ref
from ..context import Ctx
from ..domain.errors import InvalidValue, NotFound, NotPermitted
from ..domain.labels import Classification
from ..web.forms import ConfirmForm
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx

bp = Blueprint("break_glass", __name__, template_folder="templates")

REFUSED = (
    "You cannot take emergency access to a case with this reference. Check the reference; "
    "if it is right, ask the case's team or your manager"
)
HOURS_MESSAGE = f"Enter a number of hours from 1 to {service.MAX_HOURS}"
REASON_MESSAGE = (
    f"Write why you need emergency access to this case, in at least {service.MIN_REASON} characters"
)
ALREADY = "You already have access to this case: emergency access is not needed"
MAX_REASON = 2000
MAX_REFERENCE = 24  # the column's width
CASE_REFERENCE = re.compile(r"[A-Z]{1,6}-\d{1,12}")


class HoursField(IntegerField):
    """A whole number of hours; anything else fails NumberRange, in GOV.UK words (once)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        self.raw_data = [valuelist[0].strip()]
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None


class EmergencyAccessForm(FlaskForm):
    # Every input rule is checked here, before any case is looked up: otherwise an error about
    # the reason for one reference and not another would tell whether a case exists.
    reference = StringField(
        "Case reference, PNC ID, NOMIS number or CRN",
        widget=GovTextInput(),
        description="For example, SP-1001 or a PNC ID such as 2001/0123456A",
        validators=[
            InputRequired("Enter the case reference, PNC ID, NOMIS number or CRN"),
            Length(
                max=MAX_REFERENCE,
                message="Enter a case reference or identifier, for example SP-1001",
            ),
        ],
    )
    reason = TextAreaField(
        "Why you need emergency access",
        widget=GovTextArea(),
        description=(
            "Say what has happened and what you need to see. Your reason is recorded and read "
            "by the case's managers."
        ),
        validators=[
            InputRequired(REASON_MESSAGE),
            Length(max=MAX_REASON, message=f"The reason must be {MAX_REASON} characters or fewer"),
        ],
    )
    hours = HoursField(
        "How long you need access (hours)",
        widget=GovTextInput(),
        description=f"From 1 to {service.MAX_HOURS} hours. Access ends automatically.",
        default=4,
        validators=[
            InputRequired(HOURS_MESSAGE),
            NumberRange(min=1, max=service.MAX_HOURS, message=HOURS_MESSAGE),
        ],
    )
    submit = SubmitField("Take emergency access", widget=GovSubmitInput())

    def validate_reason(self, field: TextAreaField) -> None:
        if len((field.data or "").strip()) < service.MIN_REASON:  # spaces are not a reason
            raise ValidationError(REASON_MESSAGE)


def _normalised(reference: str) -> str:
    return reference.strip().upper()


def _refuse_absent(c: Ctx, reference: str) -> None:
    """No such case: audited like the service audits an unknown case id. A typed identifier
    (PNC, NOMIS, CRN) is personal data: only a case reference goes into the audit log."""
    if not CASE_REFERENCE.fullmatch(reference):
        reference = "identifier"
    c.access.record(
        c.session,
        c.subject,
        Event(
            action="break_glass.take",
            object_type="case",
            outcome="deny",
            label=Classification.OFFICIAL,
            object_id=reference,
            reason="no such case",
        ),
    )


def _has_access(c: Ctx, case: Case) -> bool:
    rel = relation(c.subject, case_ref(case))
    return rel.need_to_know


def _take(c: Ctx, form: EmergencyAccessForm) -> Case | None:
    """The case now opened by emergency access, or None with the error set on the form."""
    reference = _normalised(form.reference.data or "")
    case = case_for_emergency(c.session, c.indexer, form.reference.data or "")
    try:
        if case is None:
            _refuse_absent(c, reference)
            raise NotFound("case")
        assert form.hours.data is not None
        service.take_break_glass(c, case.id, form.reason.data or "", form.hours.data)
    except InvalidValue as exc:  # nothing half-written: the grant and its audit entry go
        rollback()
        field = form.hours if exc.kind == "hours" else form.reason
        why = exc.why or str(exc)
        field.errors = [*field.errors, why[:1].upper() + why[1:]]
        return None
    except (NotFound, NotPermitted):
        if case is not None and _has_access(c, case):  # they may see it: no secret to keep
            form.reference.errors = [*form.reference.errors, ALREADY]
            form.open_case = case
        else:
            form.reference.errors = [*form.reference.errors, REFUSED]
        return None
    return case


@bp.route("/emergency-access", methods=["GET", "POST"])
@requires(Permission.CASE_BREAK_GLASS)
def take():
    c = ctx()
    form = EmergencyAccessForm()
    if not form.is_submitted():
        form.reference.data = _normalised(request.args.get("case", ""))[:MAX_REFERENCE]
    if form.validate_on_submit():
        case = _take(c, form)
        if case is not None:
            return redirect(url_for("records.case", case_id=case.id))
    return render(
        "break_glass/take.html",
        form=form,
        open_case=getattr(form, "open_case", None),
        max_hours=service.MAX_HOURS,
        status=400 if form.errors else 200,
    )


@bp.route("/break-glass/reviews")
@requires(Permission.BREAK_GLASS_REVIEW)
def reviews():
    items = service.pending_reviews(ctx())
    return render(
        "break_glass/reviews.html",
        Classification.OFFICIAL_SENSITIVE if items else None,
        items=items,
        form=ConfirmForm(),
        reviewed=request.args.get("reviewed") == "1",
    )


@bp.route("/break-glass/reviews/<grant_id>", methods=["POST"])
@requires(Permission.BREAK_GLASS_REVIEW)
def mark_reviewed(grant_id: str):
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("break_glass.reviews"))
    # a grant on a unit the manager does not oversee, or none: the same 404 (via the error pages)
    service.mark_reviewed(ctx(), grant_id)
    return redirect(url_for("break_glass.reviews", reviewed=1))
