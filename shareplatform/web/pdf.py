"""PDF exports: HTML rendered by WeasyPrint with the classification marking in every page's header
and footer (CSS @page margin boxes), served as an attachment that no cache keeps.

The caller has already decided and audited what the document shows; this module only lays it out.
WeasyPrint fetches nothing: every URL it meets is refused, so a document cannot reach the network
or the file system.
"""

from __future__ import annotations

import re

from flask import Response

MARGIN_CSS = """
@page {
  size: A4;
  margin: 2.4cm 1.6cm;
  @top-center { content: "%(marking)s"; font: bold 10pt Arial, Helvetica, sans-serif; }
  @bottom-center { content: "%(marking)s"; font: bold 10pt Arial, Helvetica, sans-serif; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt sans-serif; }
}
"""


def _refuse_urls(url: str, *_args: object, **_kw: object) -> dict[str, object]:
    raise ValueError(f"PDF exports fetch nothing ({url[:40]})")


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render_pdf(html: str, marking: str) -> bytes:
    """The document as PDF bytes, `marking` at the top and bottom of every page."""
    from weasyprint import CSS, HTML  # type: ignore[import-untyped]  # heavy: imported on use

    page = CSS(string=MARGIN_CSS % {"marking": _css_string(marking)})
    return HTML(string=html, url_fetcher=_refuse_urls).write_pdf(stylesheets=[page])


def filename(stem: str, marking: str) -> str:
    """A safe file name that carries the classification, e.g. OFFICIAL-SENSITIVE_case-SP-1.pdf."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{marking}_{stem}").strip("-")
    return f"{safe[:150]}.pdf"


def pdf_response(data: bytes, name: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
