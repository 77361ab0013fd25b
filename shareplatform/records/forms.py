"""The record form (flask-wtf with govuk-frontend-wtf widgets). Parsing only: services validate."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
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


def _body_length(form: FlaskForm, field: TextAreaField) -> None:
    if field.data and len(field.data) > 20_000:
        raise ValidationError("Details must be 20,000 characters or fewer")


class RecordForm(FlaskForm):
    record_type = SelectField(
        "Type of record",
        widget=GovSelect(),
        validators=[InputRequired("Select the type")],
        choices=choices([(t.value, t.title) for t in POSTABLE_TYPES]),
        default=RecordType.CONTACT_OFFICE.value,
    )
    occurred_on = GuardedDateField(
        "Date",
        widget=GovDateInput(),
        format="%d %m %Y",
        description="For example, 27 3 2024",
        validators=[InputRequired("Enter the date")],
    )
    joint_agency = SelectField(
        "Other agency attending (joint visits only)",
        widget=GovSelect(),
        default="",
        choices=choices([("", "Not a joint visit")] + [(a.value, a.title) for a in CASE_AGENCIES]),
    )
    classification = RadioField(
        "Classification",
        widget=GovRadioInput(),
        validators=[InputRequired("Select a classification")],
        default=Classification.OFFICIAL_SENSITIVE.marking,
    )
    caveats = SelectMultipleField(
        "Handling caveats (optional)",
        widget=GovCheckboxesInput(),
        choices=choices([(c.value, c.value) for c in Caveat]),
        default=[],
        description="ORCON keeps the record within your agency until you release it",
    )
    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter a short title"),
            Length(max=200, message="Title must be 200 characters or fewer"),
        ],
    )
    body = TextAreaField(
        "Details",
        widget=GovTextArea(),
        validators=[InputRequired("Enter the details"), _body_length],
    )
    submit = SubmitField("Save record", widget=GovSubmitInput())

    def offer_labels(self, labels: list[Classification]) -> None:
        """Only the labels this user may write on this case are offered (and accepted)."""
        self.classification.choices = choices([(c.marking, c.marking) for c in labels])

    def exclude_agency(self, own: Agency) -> None:
        self.joint_agency.choices = choices(
            [("", "Not a joint visit")]
            + [(a.value, a.title) for a in CASE_AGENCIES if a is not own]
        )


class CorrectionForm(RecordForm):
    reason = TextAreaField(
        "Reason for the correction",
        widget=GovTextArea(),
        validators=[InputRequired("Say why the record is being corrected"), Length(max=2000)],
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
    "attending agencies": "joint_agency",
    "agency": "joint_agency",
    "reason for correction": "reason",
}
