"""Web forms (flask-wtf with govuk-frontend-wtf widgets). Parsing only: services validate."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DateField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from .domain.agencies import Agency
from .domain.cases import RecordType
from .domain.labels import Caveat, Classification

POSTABLE_TYPES = [
    t for t in RecordType if t not in (RecordType.SANITISED_ACTION, RecordType.MINUTES)
]
CASE_AGENCIES = [Agency.PRISON, Agency.NSD, Agency.CTNM, Agency.JEXU]


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms 3.3 deprecates tuple choices."""
    return [SelectChoice(value=v, label=t) for v, t in pairs]


class GuardedDateField(DateField):
    """GovDateInput posts three parts under one name; a missing or partial date is a field error,
    never a crash (the widget unpacks exactly three raw values)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [v.strip() for v in valuelist] if valuelist else []
        if len(parts) != 3:
            self.raw_data = ["", "", ""]
            self.data = None
            if valuelist:
                raise ValueError("Enter a complete date")
            return
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        if not all(p.isdigit() for p in parts):
            self.data = None
            raise ValueError("Enter a real date, using numbers, for example 27 3 2024")
        try:
            self.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            self.data = None
            raise ValueError("Enter a real date, for example 27 3 2024") from None


class SignInForm(FlaskForm):
    username = StringField(
        "Username",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your username"), Length(max=64)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password"), Length(max=200)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    code = StringField(
        "Security code",
        widget=GovTextInput(),
        description="The 6-digit code from your authenticator app",
        validators=[
            InputRequired("Enter the 6-digit code from your authenticator app"),
            Length(max=12),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (sign out, sign out everywhere)."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


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
