"""Form helpers shared by the case-work pages: GOV.UK date inputs and error-summary entries."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from ..domain.errors import InvalidValue, NotPermitted


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
    why = exc.why or str(exc)
    text = f"{exc.kind[:1].upper()}{exc.kind[1:]}: {why}" if exc.why else why
    return [{"text": text, "href": f"#{fields.get(exc.kind, 'main-content')}"}]
