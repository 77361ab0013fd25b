"""The attachment routes through the test client: the upload route alone accepts bodies above the
app's 1 MiB limit (up to 10 MiB a file); a download carries the headers that keep it out of
caches and browsers' sniffing; a refused or unknown download is a 404 either way."""

from __future__ import annotations

import gc
import io
import warnings
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.attachments.models import Attachment
from shareplatform.cases.models import Case
from shareplatform.records.services import NewRecord, post_record
from tests.factories import ctx_for
from tests.support.web import csrf_of, sign_in

BIG_PDF = b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024)  # 3 MiB: over the app-wide limit


def _record(seeded) -> str:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        case = s.scalar(select(Case).where(Case.reference == "SP-1001"))
        return str(
            post_record(
                ctx_for(seeded, s, "com.cole"),
                case.id,
                NewRecord(
                    "CONTACT_OFFICE",
                    date.today() - timedelta(days=1),
                    "OFFICIAL-SENSITIVE",
                    [],
                    "Office visit",
                    "Body",
                ),
            ).id
        )


@pytest.fixture(autouse=True)
def _collect_spooled_bodies() -> Iterator[None]:
    """werkzeug's test client spools a request body over 500 KiB into a temporary file that it
    leaves to the garbage collector (werkzeug/test.py EnvironBuilder): collect those files here,
    after each test of this module, instead of in whichever test the collector next runs."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_upload_above_app_limit_and_download_headers(client, seeded) -> None:  # type: ignore[no-untyped-def]
    record_id = _record(seeded)
    sign_in(client, seeded, "com.cole")
    page = client.get(f"/records/{record_id}").get_data(as_text=True)
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page
    token = csrf_of(page)
    response = client.post(
        f"/attachments/record/{record_id}",
        data={
            "csrf_token": token,
            "classification": "OFFICIAL-SENSITIVE",
            "file": (io.BytesIO(BIG_PDF), "licence.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with seeded.transaction() as s:
        aid = s.scalar(select(Attachment.id).order_by(Attachment.created_at.desc()))
    got = client.get(f"/attachments/{aid}/download")
    assert got.status_code == 200 and got.data == BIG_PDF
    assert got.headers["Cache-Control"] == "no-store"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"] == (
        "attachment; filename=OFFICIAL-SENSITIVE_licence.pdf"
    )
    # the rest of the app keeps its 1 MiB limit
    big_form = client.post(
        f"/records/{record_id}/correct", data={"csrf_token": token, "body": "x" * (2 << 20)}
    )
    assert big_form.status_code == 413


def test_upload_refuses_what_its_content_disagrees_with(client, seeded) -> None:  # type: ignore[no-untyped-def]
    record_id = _record(seeded)
    sign_in(client, seeded, "com.cole")
    token = csrf_of(client.get(f"/records/{record_id}").get_data(as_text=True))
    for name, content, message in (
        ("photo.png", b"%PDF-1.7\n", "its name must end in .pdf"),
        ("tool.pdf", b"MZ\x90\x00", "must be a PDF, PNG, JPEG, DOCX or XLSX"),
    ):
        response = client.post(
            f"/attachments/record/{record_id}",
            data={
                "csrf_token": token,
                "classification": "OFFICIAL-SENSITIVE",
                "file": (io.BytesIO(content), name),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    with seeded.transaction() as s:
        assert s.scalar(select(Attachment.id)) is None


def test_stranger_gets_404_like_an_unknown_id(client, seeded) -> None:  # type: ignore[no-untyped-def]
    record_id = _record(seeded)
    sign_in(client, seeded, "com.cole")
    token = csrf_of(client.get(f"/records/{record_id}").get_data(as_text=True))
    client.post(
        f"/attachments/record/{record_id}",
        data={
            "csrf_token": token,
            "classification": "OFFICIAL-SENSITIVE",
            "file": (io.BytesIO(b"%PDF-1.7\n"), "a.pdf"),
        },
        content_type="multipart/form-data",
    )
    with seeded.transaction() as s:
        aid = s.scalar(select(Attachment.id))
    client.post("/sign-out", data={"csrf_token": token})
    stranger = client.application.test_client()
    sign_in(stranger, seeded, "com.evans")
    hidden = stranger.get(f"/attachments/{aid}/download")
    unknown = stranger.get("/attachments/00000000-0000-0000-0000-000000000000/download")
    assert hidden.status_code == unknown.status_code == 404
    for response in (hidden, unknown):
        assert "not found" in response.get_data(as_text=True).lower()
