"""The record form (flask-wtf with govuk-frontend-wtf widgets). Parsing only: services validate."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, ValidationError

from ..domain.agencies import Agency
from ..domain.cases import RecordType
from ..domain.labels import Caveat, Classification
from ..web.forms import GuardedDateField, choices

POSTABLE_TYPES = RecordType.postable()
CASE_AGENCIES = [Agency.PRISON, Agency.NSD, Agency.CTNM, Agency.JEXU]
MAX_BODY = 20_000
MAX_TITLE = 200


def _body_length(form: FlaskForm, field: TextAreaField) -> None:
    if field.data and len(field.data) > MAX_BODY:
        raise ValidationError(f"Details must be {MAX_BODY:,} characters or fewer")


def _known_type(form: FlaskForm, field: SelectField) -> None:
    if field.data not in {t.value for t in POSTABLE_TYPES}:
        raise ValidationError("Select the type of record")


def _offered_label(form: FlaskForm, field: RadioField) -> None:
    if field.data not in {c.value for c in field.choices or []}:
        raise ValidationError("Select a classification")


def _known_caveats(form: FlaskForm, field: SelectMultipleField) -> None:
    if any(v not in {c.value for c in Caveat} for v in field.data or []):
        raise ValidationError("Select handling caveats from the list")


def _possible_date(form: RecordForm, field: GuardedDateField) -> None:
    """Not in the future, and not before the person was born (when the case shows a birth date)."""
    when = field.data
    if when is None:
        return
    if form.today is not None and when > form.today:
        raise ValidationError(f"{field.what.capitalize()} must be today or in the past")
    if form.born_on is not None and when < form.born_on:
        raise ValidationError(
            f"{field.what.capitalize()} must be on or after the person's date of birth"
        )


class RecordForm(FlaskForm):
    # no type is chosen for the user: a pre-selected one is too easily posted by mistake
    record_type = SelectField(
        "Type of record",
        widget=GovSelect(),
        validators=[InputRequired("Select the type of record"), _known_type],
        validate_choice=False,
        choices=choices(
            [("", "Select the type of record")] + [(t.value, t.title) for t in POSTABLE_TYPES]
        ),
        default="",
    )
    occurred_on = GuardedDateField(
        "Date of the contact or event",
        widget=GovDateInput(),
        format="%d %m %Y",
        description="For example, 27 3 2024",
        what="the date of the contact",
        validators=[InputRequired("Enter the date of the contact"), _possible_date],
    )
    joint_agency = SelectField(
        "Other agency attending (joint visits only)",
        widget=GovSelect(),
        default="",
        validate_choice=False,
        choices=choices([("", "Not a joint visit")] + [(a.value, a.title) for a in CASE_AGENCIES]),
    )
    classification = RadioField(
        "Classification",
        widget=GovRadioInput(),
        validators=[InputRequired("Select a classification"), _offered_label],
        validate_choice=False,
        default=Classification.OFFICIAL_SENSITIVE.marking,
    )
    caveats = SelectMultipleField(
        "Handling caveats (optional)",
        widget=GovCheckboxesInput(),
        choices=choices([(c.value, c.value) for c in Caveat]),
        validate_choice=False,
        validators=[_known_caveats],
        default=[],
        description="ORCON keeps the record within your agency until you release it",
    )
    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter a short title"),
            Length(max=MAX_TITLE, message=f"Title must be {MAX_TITLE} characters or fewer"),
        ],
    )
    body = TextAreaField(
        "Details",
        widget=GovCharacterCount(),
        validators=[InputRequired("Enter the details"), _body_length],
    )
    # one per rendering (shareplatform/records/writing.py): a second post lands on the first
    submission = HiddenField()
    kept = HiddenField()  # the kept form this one restores, deleted once posted
    submit = SubmitField("Save record", widget=GovSubmitInput())

    today: date | None = None
    born_on: date | None = None

    def offer_labels(self, labels: list[Classification]) -> None:
        """Only the labels this user may write on this case are offered (and accepted)."""
        self.classification.choices = choices([(c.marking, c.marking) for c in labels])

    def exclude_agency(self, own: Agency) -> None:
        self.joint_agency.choices = choices(
            [("", "Not a joint visit")]
            + [(a.value, a.title) for a in CASE_AGENCIES if a is not own]
        )

    def validate_joint_agency(self, field: SelectField) -> None:
        if self.record_type.data != RecordType.CONTACT_JOINT_VISIT.value:
            return
        if field.data not in {c.value for c in field.choices or []} - {""}:
            raise ValidationError("Select the other agency that attended the joint visit")

    def fill(self, content: dict[str, str | list[str]]) -> None:
        """Show kept or drafted content (shareplatform/records/writing.py) as typed."""
        for name in ("record_type", "joint_agency", "classification", "title", "body"):
            value = content.get(name)
            if isinstance(value, str) and hasattr(self, name):
                getattr(self, name).data = value
        reason = content.get("reason")
        if isinstance(reason, str) and hasattr(self, "reason"):
            self.reason.data = reason
        caveats = content.get("caveats")
        if isinstance(caveats, list):
            self.caveats.data = [c for c in caveats if c in {x.value for x in Caveat}]
        parts = content.get("occurred_on")
        if isinstance(parts, list) and len(parts) == 3:
            self.occurred_on.raw_data = [str(p) for p in parts]
            try:
                self.occurred_on.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
            except ValueError:
                self.occurred_on.data = None


class CorrectionForm(RecordForm):
    reason = TextAreaField(
        "Reason for the correction",
        widget=GovTextArea(),
        validators=[
            InputRequired("Say why the record is being corrected"),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Save correction", widget=GovSubmitInput())


# which form field an InvalidValue from the services belongs to (by its `kind`)
FIELD_OF_KIND = {
    "record type": "record_type",
    "date": "occurred_on",
    "classification": "classification",
    "caveat": "caveats",
    "title": "title",
    "details": "body",
    "type": "record_type",
    "attending agencies": "joint_agency",
    "agency": "joint_agency",
    "reason for correction": "reason",
}
