"""Caseload, nominal search and the case page (with its timeline from every agency)."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from ..access.vocabulary import Act, Kind
from ..accounts.identity import current_user
from ..cases import services as cases
from ..domain.labels import Classification
from ..web.permissions import Permission, requires
from ..web.rendering import render
from ..web.request import ctx

bp = Blueprint("cases", __name__, template_folder="templates")


@bp.route("/")
@requires(Permission.SIGNED_IN)
def home():
    c = ctx()
    if c.access.can(
        c.session,
        c.subject,
        Kind.CASE,
        Act.READ,
        Classification.OFFICIAL_SENSITIVE,
    ):
        return redirect(url_for("cases.caseload"))
    return render("cases/home.html", user=current_user())


@bp.route("/cases")
@requires(Permission.CASE_READ)
def caseload():
    items = cases.caseload(ctx())
    # names of nominals are OFFICIAL-SENSITIVE: the page is, as soon as it lists one
    return render(
        "cases/caseload.html", Classification.OFFICIAL_SENSITIVE if items else None, items=items
    )


@bp.route("/search")
@requires(Permission.CASE_READ)
def search():
    query = (request.args.get("q") or "").strip()[:120]
    error = ""
    results: list = []
    if "q" in request.args and not query:
        error = "Enter a name or an identifier"
    elif query:
        results = cases.search_nominals(ctx(), query)
    return render(
        "cases/search.html",
        [n.label for _, n in results],
        query=query,
        results=results,
        error=error,
        status=400 if error else 200,
    )
