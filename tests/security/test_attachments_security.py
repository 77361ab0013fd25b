"""Attachments as an object class of their own in the access matrix and non-interference checks.

Matrix: every role x vetting x relation, for files at every label no lower than their record's,
asked of the platform through attachments.services (download and the record's panel) and
compared with the independent oracle: a file is readable exactly when the oracle lets the user
read its record AND a record like it at the file's label. Whatever is refused answers exactly as
an unknown id, and every download is audited, allowed or refused.

Non-interference: adding SECRET files to records a non-corridor user reads changes nothing that
user can observe (the record's panel, the answer for the new files' ids)."""

from __future__ import annotations

import base64
import itertools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, insert, select

from shareplatform.attachments import services as att
from shareplatform.attachments.models import Attachment, AttachmentContent
from shareplatform.audit.log import Event
from shareplatform.audit.models import AuditEntry
from shareplatform.crypto.models import DataKey
from shareplatform.db import utcnow
from shareplatform.domain.errors import NotFound
from shareplatform.domain.labels import Classification
from tests.factories import ctx_for
from tests.security import builders, oracle

HOME_NSD, HOME_CT = "North", "CTP North East"
PDF = b"%PDF-1.7\nATTACHMENT-BODY\n%%EOF\n"


@dataclass(frozen=True)
class File:
    id: uuid.UUID
    record_id: uuid.UUID
    record_label: str
    label: str


def seal_files(platform, s, author: uuid.UUID, case_id, specs) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    """Insert attachments (record id, label, name) through the system writer, as imports do."""
    rows, contents = [], []
    for record_id, label, _name in specs:
        aid = uuid.uuid4()
        common = {"case_id": case_id, "classification": label, "caveats": ""}
        rows.append(
            {
                **common,
                "id": aid,
                "parent_kind": "record",
                "record_id": record_id,
                "decision_id": None,
                "file_type": "pdf",
                "size": len(PDF),
                "author_id": author,
                "created_at": utcnow(),
            }
        )
        contents.append({**common, "id": uuid.uuid4(), "attachment_id": aid})
    event = Event(
        action="test.build", object_type="attachment", outcome="done", label=Classification.SECRET
    )
    names = [{"filename": n} for _, _, n in specs]
    keys = platform.system_writer.seal_bulk(s, Attachment, rows, names, event)
    body = base64.b64encode(PDF).decode()
    keys += platform.system_writer.seal_bulk(
        s, AttachmentContent, contents, [{**n, "content": body} for n in names], event
    )
    s.execute(insert(DataKey), keys)
    s.execute(insert(Attachment), rows)
    s.execute(insert(AttachmentContent), contents)
    return [r["id"] for r in rows]


@dataclass
class World:
    platform: object
    users: dict[tuple[str, str], str]
    cases: dict[str, uuid.UUID]
    files: dict[str, list[File]]


def _build(platform) -> World:  # type: ignore[no-untyped-def]
    today = date.today()
    with platform.transaction() as s:
        author = builders.user(s, "att.author", "COM", "SC", nsd_unit="London")
        users, ids = {}, {}
        for role, vetting in itertools.product(oracle.ROLES, oracle.VETTINGS):
            name = f"a.{role.lower()}.{vetting.lower()}"
            expired = vetting == "SC-EXPIRED"
            ids[(role, vetting)] = builders.user(
                s,
                name,
                role,
                "SC" if expired else vetting,
                expires=today - timedelta(days=10) if expired else None,
                nsd_unit=HOME_NSD,
                ct_unit=HOME_CT,
            )
            users[(role, vetting)] = name
        cases = {}
        for membership in oracle.MEMBERSHIPS:
            home = membership == "unit"
            cases[membership] = builders.case(
                platform,
                s,
                f"AX-{membership.upper()}",
                nsd_unit=HOME_NSD if home else "London",
                ct_unit=HOME_CT if home else "CTP London",
            ).id
        rows = []
        for uid in ids.values():
            for membership, extra in (
                ("team", {}),
                ("panel", {"panel": True}),
                ("ended", {"end_date": today - timedelta(days=30)}),
            ):
                rows.append(
                    {
                        "case_id": cases[membership],
                        "user_id": uid,
                        "capacity": "COM",
                        "start_date": today - timedelta(days=400),
                        **extra,
                    }
                )
        builders.members(s, rows)
        files: dict[str, list[File]] = {}
        for membership, case_id in cases.items():
            specs = [
                builders.Spec(
                    case_id,
                    "CONTACT_OFFICE",
                    label,
                    "",
                    "NSD",
                    today - timedelta(days=n + 1),
                    f"record {label}",
                    "body",
                )
                for n, label in enumerate(oracle.LABELS)
            ]
            record_ids = builders.records(platform, s, author, specs)
            wanted = [
                (rid, rec_label, label)
                for rid, rec_label in zip(record_ids, oracle.LABELS, strict=True)
                for label in oracle.LABELS
                if oracle.RANK[label] >= oracle.RANK[rec_label]
            ]
            file_ids = seal_files(
                platform, s, author, case_id, [(r, lab, f"{lab}.pdf") for r, _, lab in wanted]
            )
            files[membership] = [
                File(fid, rid, rec_label, label)
                for fid, (rid, rec_label, label) in zip(file_ids, wanted, strict=True)
            ]
    return World(platform, users, cases, files)


@pytest.fixture(scope="module")
def world(module_platform) -> World:  # type: ignore[no-untyped-def]
    return _build(module_platform)


def _who(role: str, vetting: str, membership: str) -> oracle.Who:
    home = membership == "unit"
    return oracle.Who(role, vetting, membership, same_nsd_unit=home, same_ct_unit=home)


def _want(who: oracle.Who, f: File) -> bool:
    record = oracle.What(f.record_label, "none", "CONTACT_OFFICE")
    at_file_label = oracle.What(f.label, "none", "CONTACT_OFFICE")
    return oracle.may_read(who, record) and oracle.may_read(who, at_file_label)


def test_attachment_matrix(world: World) -> None:
    platform = world.platform
    mismatches: list[str] = []
    checks = 0
    unknown = str(NotFound("attachment"))
    for (role, vetting), username in world.users.items():
        with platform.db.sessions() as session, session.begin():  # type: ignore[attr-defined]
            ctx = ctx_for(platform, session, username)  # type: ignore[arg-type]
            for membership, files in world.files.items():
                who = _who(role, vetting, membership)
                listed: set[uuid.UUID] = set()
                for record_id in {f.record_id for f in files}:
                    try:
                        panel = att.panel(ctx, "record", record_id, "SECRET")
                    except NotFound:
                        continue
                    listed |= {i.id for i in panel.items}
                for f in files:
                    want = _want(who, f)
                    try:
                        got = att.download(ctx, f.id)
                        read = True
                        assert got.content == PDF
                        assert got.filename == f"{f.label}_{f.label}.pdf"
                    except NotFound as exc:
                        read = False
                        assert str(exc) == unknown  # the same words as for an unknown id
                    checks += 1
                    if (want, want) != (read, f.id in listed):
                        mismatches.append(
                            f"{username} {membership} record {f.record_label} file {f.label}: "
                            f"oracle={want} download={read} listed={f.id in listed}"
                        )
            session.rollback()
    print(f"\nattachment matrix: {checks} file checks")
    assert not mismatches, f"{len(mismatches)} mismatches, e.g.\n" + "\n".join(mismatches[:25])


def test_every_download_is_audited_allow_and_deny(world: World) -> None:
    platform = world.platform
    f = next(x for x in world.files["team"] if x.label == "OFFICIAL-SENSITIVE")
    with platform.transaction() as s:  # type: ignore[attr-defined]

        def count(outcome: str) -> int:
            return s.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action == "attachment.download",
                    AuditEntry.object_id == str(f.id),
                    AuditEntry.outcome == outcome,
                )
            )

        before = count("allow"), count("deny")
        att.download(ctx_for(platform, s, "a.com.sc"), f.id)  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            att.download(ctx_for(platform, s, "a.com.bpss"), world.files["none"][0].id)  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            att.download(ctx_for(platform, s, "a.auditor.sc"), f.id)  # type: ignore[arg-type]
        # allowed: the parent's decision, then the file's own (the entry its grant cites)
        assert count("allow") == before[0] + 2
        assert count("deny") == before[1] + 1


OBSERVERS = ("a.com.sc", "a.com.bpss", "a.keyworker.sc", "a.pom.sc")


def _observe(platform, username: str, record_ids) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    with platform.db.sessions() as s, s.begin():
        ctx = ctx_for(platform, s, username)
        seen: list[tuple[object, ...]] = []
        for rid in record_ids:
            try:
                panel = att.panel(ctx, "record", rid, "OFFICIAL-SENSITIVE")
            except NotFound as exc:
                seen.append((rid, str(exc)))
                continue
            seen.append((rid, tuple((i.id, i.filename, str(i.label)) for i in panel.items)))
        s.rollback()
        return seen


def test_secret_files_do_not_interfere(world: World) -> None:
    """SECRET files added to OFFICIAL and OFFICIAL-SENSITIVE records change nothing that a user
    outside the corridor can observe; their ids answer as unknown ones."""
    platform = world.platform
    case_id = world.cases["team"]
    records = sorted(
        {f.record_id for f in world.files["team"] if f.record_label != "SECRET"}, key=str
    )
    before = {u: _observe(platform, u, records) for u in OBSERVERS}
    with platform.transaction() as s:  # type: ignore[attr-defined]
        author = builders.user(s, "att.ni.author", "HONSU", "SC", nsd_unit="North")
        new = seal_files(
            platform, s, author, case_id, [(r, "SECRET", "NI-SECRET.pdf") for r in records]
        )
    after = {u: _observe(platform, u, records) for u in OBSERVERS}
    assert before == after
    unknown = str(NotFound("attachment"))
    for username in OBSERVERS:
        with platform.db.sessions() as s, s.begin():  # type: ignore[attr-defined]
            ctx = ctx_for(platform, s, username)  # type: ignore[arg-type]
            for fid in [*new, uuid.uuid4()]:
                with pytest.raises(NotFound) as exc:
                    att.download(ctx, fid)
                assert str(exc.value) == unknown
            s.rollback()
