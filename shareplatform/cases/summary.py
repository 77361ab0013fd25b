"""The slot for the case summary ("what do I need to know now") at the top of the case page.

The summary gathers facts from features above cases (MAPPA actions, lifecycle checklists and plans,
records), which cases and records may not import (tests/unit/test_architecture.py), so a feature
above them provides the builder at registration (shareplatform/briefing/__init__.py) and the case
page asks for it here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from flask import Flask

    from ..context import Ctx
    from .services import CaseView

_KEY = "shareplatform.case_summary"
SummaryBuilder = Callable[["Ctx", "CaseView"], object]


def provide(app: Flask, builder: SummaryBuilder) -> None:
    app.extensions[_KEY] = builder


def summary_for(ctx: Ctx, view: CaseView) -> object | None:
    """The summary of an opened case for this reader, or None when no feature provides one."""
    builder: SummaryBuilder | None = current_app.extensions.get(_KEY)
    return builder(ctx, view) if builder is not None else None
