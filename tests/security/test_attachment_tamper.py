"""An insider with database write access (no keys) re-points an attachment at a record on
another case, where they, or an accomplice, are on the team. The file's parent and case are
stamped facts (shareplatform/attachments/models.py), so the download fails closed and is audited
as an integrity failure; before the edit the same user was refused as for an unknown id."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from shareplatform.attachments import services as att
from shareplatform.attachments.models import Attachment
from shareplatform.audit.models import AuditEntry
from shareplatform.domain.errors import NotFound
from shareplatform.records.services import NewRecord, post_record
from tests.integration.mappa_world import build_world
from tests.support import factories as f

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\nATTACHED-PAYLOAD\n%%EOF\n"
YESTERDAY = date.today() - timedelta(days=1)


def _note(title: str) -> NewRecord:
    return NewRecord("CONTACT_OFFICE", YESTERDAY, "OFFICIAL-SENSITIVE", [], title, "Body")


@pytest.mark.parametrize("column", ["record", "case"])
def test_a_file_re_pointed_at_another_case_is_sent_to_nobody(platform, column: str) -> None:  # type: ignore[no-untyped-def]
    world = build_world(platform)
    with platform.transaction() as s:
        c = world.ctx(s, "com")
        rid = post_record(c, world.case_id, _note("Visit")).id
        new = att.NewAttachment("licence.pdf", PDF, "OFFICIAL-SENSITIVE")
        aid = att.attach(c, "record", rid, new).id
    with platform.transaction() as s:  # 'far' leads a case of their own in another unit
        other = f.case(platform, s, "SP-T2", panel=[(world.ids["far"], "HONSU")], nsd_unit="London")
        other_id = other.id
    with platform.transaction() as s:
        theirs = post_record(world.ctx(s, "far"), other_id, _note("Mine")).id
    with platform.transaction() as s, pytest.raises(NotFound):
        att.download(world.ctx(s, "far"), aid)

    moved = (
        {"record_id": theirs, "case_id": other_id} if column == "record" else {"case_id": other_id}
    )
    with platform.transaction() as s:
        s.execute(update(Attachment).where(Attachment.id == aid).values(**moved))
    with platform.transaction() as s, pytest.raises(NotFound):
        att.download(world.ctx(s, "far"), aid)
    with platform.transaction() as s, pytest.raises(NotFound):
        att.download(world.ctx(s, "com"), aid)  # the file's own team: withheld too, not leaked
    with platform.transaction() as s:
        failed = s.scalars(select(AuditEntry).where(AuditEntry.action == "integrity.fail")).all()
        assert {e.object_id for e in failed} == {str(aid)}
