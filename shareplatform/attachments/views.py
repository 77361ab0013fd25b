"""Attachment pages: the upload form's target and the download. The panel on a record or decision
page comes from the `attachments_panel` template global, so those pages need one include only.

Views parse the form, call one service and answer; the service decides, audits and validates."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import Blueprint, Response, redirect, request, send_file, url_for

from ..domain.errors import InvalidValue, NotFound
from ..domain.labels import Classification
from ..web.forms import error_summary
from ..web.permissions import Permission, requires
from ..web.rendering import render, rollback
from ..web.request import ctx
from . import services
from .filetypes import ACCEPT, MAX_BYTES

bp = Blueprint("attachments", __name__, template_folder="templates")

# The app refuses bodies over MAX_CONTENT_LENGTH (1 MiB); the upload alone may carry a file of up
# to MAX_BYTES plus the form's own fields and multipart framing.
UPLOAD_LIMIT = MAX_BYTES + 64 * 1024
FIELDS = {"file": "file", "classification": "classification"}


@bp.url_value_preprocessor
def _raise_limit_for_upload(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # url_value_preprocessors run before every before_request hook (CSRF reads the form there)
    if endpoint == "attachments.upload":
        request.max_content_length = UPLOAD_LIMIT


def _back(kind: str, parent_id: str) -> str:
    if kind == "decision":
        return url_for("mappa.decision", decision_id=parent_id)
    return url_for("records.record", record_id=parent_id)


@bp.route("/attachments/<kind>/<parent_id>", methods=["GET", "POST"])
@requires(Permission.CASE_READ)  # the parent decides, then the file's own label
def upload(kind: str, parent_id: str):
    if kind not in services.PARENT_KINDS:
        raise NotFound("attachment")
    c = ctx()
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        name, content = _uploaded()
        try:
            services.attach(
                c,
                kind,
                parent_id,
                services.NewAttachment(name, content, request.form.get("classification", "")),
            )
        except InvalidValue as exc:
            rollback()
            errors = error_summary(exc, FIELDS)
        else:
            return redirect(_back(kind, parent_id) + "?attached=1#attachments")
    found = services.panel(c, kind, parent_id, Classification.OFFICIAL_SENSITIVE)
    return render(
        "attachments/upload.html",
        Classification.OFFICIAL_SENSITIVE,
        found=found,
        back=_back(kind, parent_id),
        errors=errors,
        form=request.form,
        accept=ACCEPT,
        status=400 if errors else 200,
    )


def _uploaded() -> tuple[str, bytes]:
    """The uploaded file's name and bytes (one more than the limit, so that oversize shows); its
    spooled temporary file is closed at once."""
    file = request.files.get("file")
    if file is None:
        return "", b""
    try:
        return file.filename or "", file.read(MAX_BYTES + 1)
    finally:
        file.close()


@bp.route("/attachments/<attachment_id>/download")
@requires(Permission.CASE_READ)  # the attachment decides: refused as if absent when unreadable
def download(attachment_id: str) -> Response:
    got = services.download(ctx(), attachment_id)
    response = send_file(
        BytesIO(got.content),
        mimetype=got.file_type.mimetype,
        as_attachment=True,
        download_name=got.filename,
        conditional=False,
        etag=False,
        last_modified=None,
        max_age=None,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Classification"] = got.label.classification.marking
    return response


def attachments_panel(kind: str, parent_id: object, page_label: str) -> services.AttachmentPanel:
    """For the record and decision pages: their files the viewer may see (names up to the page's
    label), and the labels they may attach at."""
    return services.panel(ctx(), kind, str(parent_id), page_label)


def register_globals(app: Any) -> None:
    app.jinja_env.globals["attachments_panel"] = attachments_panel
    app.jinja_env.globals["attachment_accept"] = ACCEPT
