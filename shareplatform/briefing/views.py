"""The case summary as a PDF (the page itself is the case page: records/views.py)."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..access.vocabulary import Act, Kind
from ..audit.log import Event
from ..cases.services import CaseView, case_view
from ..casework import demand
from ..context import Ctx
from ..domain.cases import CaseCategory
from ..domain.labels import Classification
from ..web import pdf
from ..web.permissions import Permission, requires
from ..web.request import ctx
from .services import case_summary, export_label

OS = Classification.OFFICIAL_SENSITIVE

bp = Blueprint("briefing", __name__, template_folder="templates")


@bp.route("/cases/<case_id>/summary.pdf")
@requires(Permission.CASE_READ)  # the case decides (case_view): refused as if absent
def summary_pdf(case_id: str):
    c = ctx()
    view = case_view(c, case_id)
    _demand_export(c, view, OS)  # refused before anything is read for it...
    summary = case_summary(c, view)
    label = export_label(view, summary)
    if label > OS:
        _demand_export(c, view, label)  # ...and again at what it would show
    marking = label.marking
    html = render_template(
        "briefing/summary_pdf.html",
        view=view,
        summary=summary,
        marking=marking,
        category_title=CaseCategory(view.case.category).title,
        exported_by=c.subject.username,
        today=c.today,
    )
    c.access.record(
        c.session,
        c.subject,
        Event(
            action="case.summary.export",
            object_type="case",
            outcome="done",
            label=Classification.parse(marking),
            object_id=str(view.case.id),
            case_id=str(view.case.id),
            detail={"format": "pdf", "marking": marking},
        ),
    )
    name = pdf.filename(f"case-summary-{view.case.reference}", marking)
    return pdf.pdf_response(pdf.render_pdf(html, marking), name)


def _demand_export(c: Ctx, view: CaseView, label: Classification) -> None:
    """A PDF leaves the system: exporting is its own act (policies/policy.csv, "case, export"),
    decided and audited, and refused as any export is (mappa/exports.py)."""
    demand(
        c,
        view.case,
        kind=Kind.CASE,
        act=Act.EXPORT,
        label=label,
        event=Event(
            action="case.summary.export",
            object_type="case",
            outcome="allow",
            label=label,
            object_id=str(view.case.id),
            case_id=str(view.case.id),
            detail={"format": "pdf"},
        ),
        message=f"You may not export this case summary at {label.marking}.",
    )
