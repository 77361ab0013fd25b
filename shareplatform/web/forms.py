"""Form helpers shared by the pages: posted fields, GOV.UK date inputs, error-summary entries,
the vocabulary offered by administration forms, and the generic forms (confirm buttons, dates)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask, abort, current_app, request
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from werkzeug.datastructures import MultiDict
from wtforms import DateField, SubmitField
from wtforms.fields.choices import SelectChoice

from ..access import policy_files
from ..access.facts import CONDITIONS
from ..domain.agencies import CT_UNITS, NSD_UNITS, Agency, Role
from ..domain.errors import InvalidValue, NotPermitted
from ..domain.labels import Classification
from ..domain.vetting import Vetting


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms 3.3 deprecates tuple choices."""
    return [SelectChoice(value=v, label=t) for v, t in pairs]


class GuardedDateField(DateField):
    """GovDateInput posts three parts under one name; a missing or partial date is a field error,
    never a crash (the widget unpacks exactly three raw values). `what` names the date in its
    messages, GOV.UK style ("Date of the contact must include a year")."""

    def __init__(self, *args: Any, what: str = "the date", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.what = what

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [v.strip() for v in valuelist] if valuelist else []
        what = self.what[:1].upper() + self.what[1:]
        if len(parts) != 3:
            self.raw_data = ["", "", ""]
            self.data = None
            if valuelist:
                raise ValueError(f"Enter {self.what}")
            return
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        missing = [n for n, p in zip(("a day", "a month", "a year"), parts, strict=True) if not p]
        if missing:
            self.data = None
            raise ValueError(f"{what} must include {' and '.join(missing)}")
        if not all(p.isdigit() for p in parts):
            self.data = None
            raise ValueError(f"{what} must be a real date, using numbers, for example 27 3 2024")
        try:
            self.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            self.data = None
            raise ValueError(f"{what} must be a real date, for example 27 3 2024") from None


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (sign out, sign out everywhere)."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


def form_date(form: MultiDict[str, str], name: str, what: str) -> date | None:
    """The date in the `name-day/-month/-year` inputs; None when all are blank.

    `what` names the field in the error (InvalidValue.kind) when the date is not a real one.
    """
    parts = [form.get(f"{name}-{p}", "").strip() for p in ("day", "month", "year")]
    if not any(parts):
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        raise InvalidValue(what, "-".join(parts), why="enter a real date") from None


def error_summary(exc: InvalidValue | NotPermitted, fields: dict[str, str]) -> list[dict[str, str]]:
    """One error-summary entry, linked to the field it is about (the page when it is a refusal)."""
    if isinstance(exc, NotPermitted):
        return [{"text": str(exc), "href": "#main-content"}]
    text = f"{exc.kind[:1].upper()}{exc.kind[1:]}: {exc.why}" if exc.why else plain_message(exc)
    return [{"text": text, "href": f"#{fields.get(exc.kind, 'main-content')}"}]


def posted() -> None:
    """A POST that carries only the CSRF token (checked by flask-wtf): refuse it otherwise."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def form_field(name: str) -> str:
    return (request.form.get(name) or "").strip()


def form_day(prefix: str, required: bool = True) -> date | None:
    parts = [form_field(f"{prefix}-{p}") for p in ("day", "month", "year")]
    if not any(parts):
        if required:
            raise InvalidValue("date", "", why="enter a date")
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        raise InvalidValue(
            "date", " ".join(parts), why="enter a real date, for example 27 3 2024"
        ) from None


def admin_vocabulary() -> dict[str, Any]:
    return {
        "roles": [r.value for r in Role],
        "groups": list(policy_files.GROUPS),
        "kinds": list(policy_files.KINDS),
        "actions": list(policy_files.ACTIONS),
        "labels": ["*", *Classification.markings()],
        "conditions": list(CONDITIONS),
        "agencies": [a.value for a in Agency],
        "vettings": [v.value for v in Vetting],
        "nsd_units": list(NSD_UNITS),
        "ct_units": list(CT_UNITS),
    }


def plain_message(exc: InvalidValue) -> str:
    """A sentence for the user: never a code or the list of accepted codes ("Invalid level: no
    value (allowed: MAPPA_L2, ...)" becomes "Select a level")."""
    if exc.why:
        return exc.why[:1].upper() + exc.why[1:]
    what = exc.kind.replace("_", " ")
    article = "an" if what[:1].lower() in "aeiou" else "a"
    if exc.allowed:
        return "Choose " + f"{article} {what} from the list"
    if exc.value in (None, ""):
        return f"Enter {article} {what}"
    return f"Enter a valid {what}"


# -- forms posted after the session ended ----------------------------------------------------
# A feature's form that is worth keeping when it arrives after its author's session ended: the
# keeper seals what was posted for that user and returns the path they come back to after
# signing in again (or None). The sign-in hook (shareplatform/accounts/identity.py) calls it.
FormKeeper = Callable[[uuid.UUID], str | None]


def keep_on_timeout(app: Flask, endpoint: str, keeper: FormKeeper) -> None:
    app.extensions.setdefault("shareplatform_form_keepers", {})[endpoint] = keeper


def keeper_for(endpoint: str | None) -> FormKeeper | None:
    keepers: dict[str, FormKeeper] = current_app.extensions.get("shareplatform_form_keepers", {})
    return keepers.get(endpoint or "")
