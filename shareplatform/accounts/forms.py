"""Sign-in forms (flask-wtf with govuk-frontend-wtf widgets)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length


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


class RecoverForm(FlaskForm):
    username = StringField(
        "Username",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your username"), Length(max=64)],
    )
    code = StringField(
        "Recovery code",
        widget=GovTextInput(),
        description="The one-time code your user administrator gave you, for example ABCD-EFGH-…",
        validators=[InputRequired("Enter the recovery code"), Length(max=64)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


PASSWORD_HINT = "At least 12 characters. A few unrelated words make a good password."  # noqa: S105 - help text, not a password


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description=PASSWORD_HINT,
        validators=[InputRequired("Enter a new password"), Length(max=200)],
    )
    confirm = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter the new password again"), Length(max=200)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your current password"), Length(max=200)],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())
