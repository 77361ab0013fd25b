"""The JSON API: caseload, search and cases."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..access.vocabulary import Permission
from ..web.api import Blueprint, guard
from ..web.permissions import requires
from ..web.request import ctx as context
from ..web.schemas import label_dict
from . import schemas as s
from . import services as cases

case_blp = guard(
    Blueprint("api-cases", __name__, url_prefix="/api/v1", description="Caseload, search and cases")
)


def _summary(c: cases.CaseSummary) -> dict[str, Any]:
    out = asdict(c)
    out["next_key_date"] = (
        {"name": c.next_key_date[0], "date": c.next_key_date[1]} if c.next_key_date else None
    )
    return out


def nominal_json(n: cases.NominalDetails) -> dict[str, Any]:
    from ..domain.labels import Label

    out = asdict(n)
    out["label"] = label_dict(Label.of(n.label))
    return out


@case_blp.route("/caseload")
@requires(Permission.CASE_READ)
@case_blp.response(200, s.CaseListSchema)
def caseload() -> dict[str, Any]:
    """Cases where you are on the team or the MAPPA panel today."""
    ctx = context()
    return {"items": [_summary(c) for c in cases.caseload(ctx)]}


@case_blp.route("/nominals")
@requires(Permission.NOMINAL_READ)
@case_blp.arguments(s.SearchArgs, location="query")
@case_blp.response(200, s.SearchResultSchema)
def search(args: dict[str, Any]) -> dict[str, Any]:
    """Exact search by name, alias or identifier (blind index); only cases you may see."""
    ctx = context()
    hits = cases.search_nominals(ctx, args["q"])
    return {"items": [{"case": _summary(c), "nominal": nominal_json(n)} for c, n in hits]}
