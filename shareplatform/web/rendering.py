"""Rendering pages with their classification; rolling back what a refused form wrote."""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, render_template

from ..domain.labels import Classification, highest

LabelLike = Classification | str | None


def page_label(*labels: LabelLike | Iterable[LabelLike]) -> Classification:
    """The highest classification among everything a page displays (OFFICIAL when nothing is)."""
    flat: list[Classification] = []
    for item in labels:
        if item is None or item == "":
            continue
        if isinstance(item, (Classification, str)):
            flat.append(Classification.parse(item))
        else:
            flat.extend(Classification.parse(x) for x in item if x)
    return highest(flat)


def render(
    template: str, *labels: LabelLike | Iterable[LabelLike], status: int = 200, **context: object
) -> tuple[str, int]:
    """Render a page; its banners show the highest of `labels` (pass every label the page shows)."""
    return render_template(template, page_label=page_label(*labels).marking, **context), status


def rollback() -> None:
    """Discard what this request wrote so far (the unit of work then commits nothing of it)."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()
