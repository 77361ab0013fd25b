"""Your API tokens: create one (its text is shown once), list them, revoke one.

The services in accounts/tokens.py validate and audit; this module only parses the form, calls
them and renders. Tokens belong to the signed-in user alone, so every route is SIGNED_IN.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import IntegerField, RadioField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange

from ..accounts import tokens as token_service
from ..accounts.models import User
from ..domain.errors import Conflict, InvalidValue
from ..web.forms import ConfirmForm, choices
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from .identity import current_user

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens", template_folder="templates")

DAYS_MESSAGE = f"Enter a number of days from 1 to {token_service.MAX_DAYS}"


class DaysField(IntegerField):
    """A whole number of days; anything else fails NumberRange, in GOV.UK words."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        self.raw_data = [valuelist[0].strip()]
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None  # NumberRange then says what to enter (once)


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        description="Something to recognise it by, for example 'Team dashboard'",
        validators=[
            InputRequired("Enter a name for the token"),
            Length(
                max=token_service.MAX_NAME,
                message=f"The name must be {token_service.MAX_NAME} characters or fewer",
            ),
        ],
    )
    scope = RadioField(
        "What the token may do",
        widget=GovRadioInput(),
        choices=choices(
            [
                (token_service.Scope.READ.value, "Read only"),
                (token_service.Scope.READ_WRITE.value, "Read and write (add and correct records)"),
            ]
        ),
        default=token_service.Scope.READ.value,
        validators=[InputRequired("Select what the token may do")],
    )
    days = DaysField(
        "Expires after (days)",
        widget=GovTextInput(),
        description=f"From 1 to {token_service.MAX_DAYS} days",
        default=token_service.DEFAULT_DAYS,
        validators=[
            InputRequired(DAYS_MESSAGE),
            NumberRange(min=1, max=token_service.MAX_DAYS, message=DAYS_MESSAGE),
        ],
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())


# which form field a service InvalidValue belongs to (by its `kind`)
_FIELD_OF_KIND = {"name": "name", "scope": "scope", "days": "days"}


def _me() -> User:
    user = current_user()
    assert user is not None  # SIGNED_IN routes run only for a signed-in user
    return user


def _field_error(form: TokenForm, kind: str, message: str) -> None:
    field = getattr(form, _FIELD_OF_KIND.get(kind, "name"))
    field.errors = [*field.errors, message]


@bp.route("")
@requires(Permission.SIGNED_IN)
def index():
    c = ctx()
    tokens = token_service.list_tokens(c.session, c.subject.user_id)
    return render(
        "tokens/index.html",
        tokens=tokens,
        form=ConfirmForm(),
        revoked=next((t for t in tokens if str(t.id) == request.args.get("revoked")), None),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def new():
    c = ctx()
    form = TokenForm()
    if form.validate_on_submit():
        assert form.days.data is not None
        try:
            summary, raw = token_service.create_token(
                c.session,
                c.access,
                _me(),
                form.name.data or "",
                form.scope.data or "",
                form.days.data,
            )
        except InvalidValue as exc:  # nothing half-written: the token and its audit entry go
            rollback()
            why = exc.why or str(exc)
            _field_error(form, exc.kind, why[:1].upper() + why[1:])
        except Conflict as exc:  # a live token already has that name
            rollback()
            _field_error(form, "name", str(exc))
        else:
            # the one and only time the token's text is shown (responses are never cached)
            return render("tokens/created.html", token=summary, raw=raw)
    return render("tokens/new.html", form=form, status=400 if form.errors else 200)


@bp.route("/<token_id>/revoke", methods=["POST"])
@requires(Permission.SIGNED_IN)
def revoke(token_id: str):
    c = ctx()
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("tokens.index"))
    # someone else's token, or none: the same 404 (NotFound, via the error pages)
    summary = token_service.revoke_token(c.session, c.access, _me(), token_id)
    return redirect(url_for("tokens.index", revoked=summary.id))
