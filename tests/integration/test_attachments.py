"""Attachments on records and MAPPA decisions at service level, on SQLite and PostgreSQL: the type
judged from content, the size limit, labels no lower than the parent's, sealed per level, every
download audited, and everything a user may not see answered as an unknown id."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.attachments import services as att
from shareplatform.attachments.filetypes import MAX_BYTES, sniff
from shareplatform.attachments.models import Attachment, AttachmentContent
from shareplatform.audit.models import AuditEntry
from shareplatform.domain.errors import InvalidValue, NotFound
from shareplatform.records.services import NewRecord, post_record
from tests.integration.mappa_world import build_world, decide, decision_data, disclosure, meeting

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\nPDF-SECRET-PAYLOAD\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def office(kind: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
    return buf.getvalue()


@pytest.fixture
def world(platform):  # type: ignore[no-untyped-def]
    return build_world(platform)


def record(world, who: str = "com", label: str = "OFFICIAL-SENSITIVE"):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        return post_record(
            world.ctx(s, who),
            world.case_id,
            NewRecord(
                "CONTACT_OFFICE", date.today() - timedelta(days=1), label, [], "Visit", "Body"
            ),
        ).id


def attach(
    world,
    parent,
    who="com",
    name="licence.pdf",
    content=PDF,
    label="OFFICIAL-SENSITIVE",
    kind="record",
):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        return att.attach(
            world.ctx(s, who), kind, parent, att.NewAttachment(name, content, label)
        ).id


def download(world, aid, who):  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        return att.download(world.ctx(s, who), aid)


def test_sniff_accepts_only_the_five_types() -> None:
    assert sniff(PDF).code == "pdf"  # type: ignore[union-attr]
    assert sniff(PNG).code == "png"  # type: ignore[union-attr]
    assert sniff(b"\xff\xd8\xff\xe0" + b"0" * 10).code == "jpeg"  # type: ignore[union-attr]
    assert sniff(office("docx")).code == "docx"  # type: ignore[union-attr]
    assert sniff(office("xlsx")).code == "xlsx"  # type: ignore[union-attr]
    bare_zip = io.BytesIO()
    with zipfile.ZipFile(bare_zip, "w") as z:
        z.writestr("evil.exe", "MZ")
    assert sniff(bare_zip.getvalue()) is None
    assert sniff(b"MZ\x90\x00") is None
    assert sniff(b"<html><script>") is None


def test_team_member_uploads_and_downloads_sealed_file(world) -> None:  # type: ignore[no-untyped-def]
    rid = record(world)
    aid = attach(world, rid)
    got = download(world, aid, "pom")  # another team member
    assert got.content == PDF
    assert got.filename == "OFFICIAL-SENSITIVE_licence.pdf"
    assert got.file_type.mimetype == "application/pdf"
    with world.platform.transaction() as s:
        content = s.scalar(select(AttachmentContent).where(AttachmentContent.attachment_id == aid))
        assert b"PDF-SECRET-PAYLOAD" not in content.content_ct  # sealed, not stored in clear
        assert b"licence" not in s.get(Attachment, aid).filename_ct
        panel = att.panel(world.ctx(s, "com"), "record", rid, "OFFICIAL-SENSITIVE")
        assert [i.filename for i in panel.items] == ["licence.pdf"]
        entries = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "attachment.download", AuditEntry.object_id == str(aid)
            )
        ).all()
        # two decisions, each audited: the parent's rules, then the file at its own label
        assert [e.outcome for e in entries] == ["allow", "allow"]


def test_stranger_and_unknown_id_get_the_same_answer_and_are_audited(world) -> None:  # type: ignore[no-untyped-def]
    aid = attach(world, record(world))
    with world.platform.transaction() as s:  # refusals keep their audit entries (as the web does)
        with pytest.raises(NotFound) as hidden:
            att.download(world.ctx(s, "far"), aid)
        with pytest.raises(NotFound) as unknown:
            att.download(world.ctx(s, "far"), uuid.uuid4())
        with pytest.raises(NotFound):
            att.download(world.ctx(s, "far"), "not-a-uuid")
    assert str(hidden.value) == str(unknown.value) == "Attachment not found"
    with world.platform.transaction() as s:
        denied = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "attachment.download", AuditEntry.outcome == "deny"
            )
        ).all()
        assert len(denied) >= 2


def test_file_above_what_a_user_may_read_is_unknown_to_them(world) -> None:  # type: ignore[no-untyped-def]
    rid = record(world)
    aid = attach(world, rid, who="honsu", label="SECRET")  # corridor, on the panel
    assert download(world, aid, "honsu").label.classification.marking == "SECRET"
    for user in ("com", "pom"):  # SECRET stays in the corridor; the POM is not cleared for it
        with pytest.raises(NotFound):
            download(world, aid, user)
    with world.platform.transaction() as s:
        assert att.panel(world.ctx(s, "com"), "record", rid, "OFFICIAL-SENSITIVE").items == []
        # a readable file above the page's label is listed by label alone, its name not opened
        items = att.panel(world.ctx(s, "honsu"), "record", rid, "OFFICIAL-SENSITIVE").items
        assert [(i.filename, i.label.classification.marking) for i in items] == [("", "SECRET")]


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("licence.png", PDF, "its name must end in .pdf"),
        ("tool.exe", b"MZ\x90\x00", "must be a PDF, PNG, JPEG, DOCX or XLSX"),
        ("page.pdf", b"<html>", "must be a PDF, PNG, JPEG, DOCX or XLSX"),
        ("big.pdf", b"%PDF-" + b"0" * MAX_BYTES, "smaller than 10MB"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_refuses_what_is_not_an_accepted_file(world, name, content, why) -> None:  # type: ignore[no-untyped-def]
    rid = record(world)
    with pytest.raises(InvalidValue, match=why):
        attach(world, rid, name=name, content=content)
    with world.platform.transaction() as s:
        assert s.scalar(select(Attachment.id)) is None


def test_label_never_lower_than_parent(world) -> None:  # type: ignore[no-untyped-def]
    rid = record(world, label="OFFICIAL-SENSITIVE")
    with pytest.raises(InvalidValue, match="or higher"):
        attach(world, rid, label="OFFICIAL")


def test_office_documents_and_images(world) -> None:  # type: ignore[no-untyped-def]
    rid = record(world)
    for name, content in (("a.docx", office("docx")), ("b.xlsx", office("xlsx")), ("c.png", PNG)):
        aid = attach(world, rid, name=name, content=content)
        assert download(world, aid, "com").content == content


def test_decision_attachment_follows_the_decision(world) -> None:  # type: ignore[no-untyped-def]
    with world.platform.transaction() as s:
        mtg = meeting(world, s)
        disc = disclosure(world, s)
        dec = decide(world, s, decision_data(world, mtg.id, [disc.id]))
        dec_id = dec.id
    aid = attach(world, dec_id, who="honsu", kind="decision", label="SECRET")
    assert download(world, aid, "lro").content == PDF  # on the panel
    for outsider in ("com", "far"):  # the COM is on the team, not the panel
        with pytest.raises(NotFound):
            download(world, aid, outsider)
    with pytest.raises(NotFound):  # nor may they attach to it
        attach(world, dec_id, who="com", kind="decision", label="SECRET")
