"""The audit viewer: filter, read, export and verify the audit log (auditors)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, Response, request

from ..access.vocabulary import Act, Kind
from ..domain.errors import InvalidValue, NotPermitted
from ..domain.labels import Classification
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from . import services as viewer

OS = Classification.OFFICIAL_SENSITIVE

bp = Blueprint("audit", __name__, url_prefix="/admin", template_folder="templates")


# -- audit --------------------------------------------------------------------------------------
def _filters() -> viewer.Filters:
    def when(name: str, end: bool) -> datetime | None:
        value = request.args.get(name, "").strip()
        if not value:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidValue(name, value, why="use a date like 2024-03-27") from None
        return datetime.combine(day, time.max if end else time.min, UTC)

    a = request.args
    return viewer.Filters(
        a.get("user", "").strip(),
        a.get("case", "").strip(),
        a.get("outcome", "").strip(),
        a.get("label", "").strip(),
        when("since", False),
        when("until", True),
    )


def _page_number() -> int:
    """The `page` argument: a whole number from 1 (absent: 1)."""
    value = request.args.get("page", "").strip()
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise InvalidValue("page", value, why="use a whole number from 1")
    return int(value)


@bp.route("/audit")
@requires(Permission.AUDIT_READ)
def audit():
    """The log, filtered. A bad filter value answers 400, with the form and what was wrong."""
    c = ctx()
    error, code = "", 200
    try:
        filters, number = _filters(), _page_number()
        page = viewer.search(c, filters, number)
    except InvalidValue as exc:
        rollback()
        error, code, number = str(exc), 400, 1
        page = viewer.Page([], Classification.OFFICIAL, False, viewer.readable_labels(c))
    status = (
        viewer.chain_status(c)
        if c.access.decide(c.session, c.subject, _audit_facts(), Act.VERIFY).allowed
        else None
    )
    next_args = {**{k: v for k, v in request.args.items() if k != "page"}, "page": number + 1}
    return render(
        "audit/audit.html",
        page.highest,
        status=code,
        page=page,
        args=request.args,
        error=error,
        chain=status,
        outcomes=viewer.OUTCOMES,
        next_args=next_args,
        detail_of=viewer.detail_of,
    )


def _audit_facts():
    from ..access.facts import Facts

    return Facts(Kind.AUDIT, Classification.OFFICIAL)


@bp.route("/audit/export.csv")
@requires(Permission.AUDIT_EXPORT)
def audit_export():
    text, label, _ = viewer.export_csv(ctx(), _filters())
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{label.marking.lower()}.csv"',
            "X-Classification": label.marking,
        },
    )


__all__ = ["bp", "NotPermitted"]
