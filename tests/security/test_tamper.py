"""Tampering with the database directly (SQL) never yields plaintext: it fails loudly.

Each test edits rows with plain SQL on the platform's engine, then reads through the service
layer or the access layer as a user who is allowed to read the record.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import LargeBinary, Uuid, bindparam, select, text

from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import Case
from shareplatform.crypto.models import DataKey
from shareplatform.domain.errors import IntegrityFailure
from shareplatform.domain.labels import Classification
from shareplatform.records.models import Record
from shareplatform.records.services import record_facts, record_page, timeline
from tests.factories import ctx_for
from tests.security import builders

ID = bindparam("id", type_=Uuid())


def sql(platform, statement: str, *extra, **params) -> None:  # type: ignore[no-untyped-def]
    with platform.db.engine.begin() as conn:
        conn.execute(text(statement).bindparams(*extra), params)


def ciphertext(platform, record_id: uuid.UUID) -> bytes:  # type: ignore[no-untyped-def]
    with platform.db.engine.connect() as conn:
        return bytes(
            conn.execute(
                text("SELECT body_ct FROM records WHERE id = :id").bindparams(ID), {"id": record_id}
            ).scalar_one()
        )


def data_key_of(platform, record_id: uuid.UUID) -> DataKey:  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        record = session.get(Record, record_id)
        return session.get(DataKey, record.data_key_id)


def read_via_kernel(platform, username: str, record_id: uuid.UUID) -> dict:  # type: ignore[no-untyped-def]
    from shareplatform.audit.log import Event

    with platform.transaction() as session:
        ctx = ctx_for(platform, session, username)
        record = session.get(Record, record_id)
        case = session.get(Case, record.case_id)
        return platform.access.read_one(
            session,
            ctx.subject,
            record,
            record_facts(ctx, case, record),
            Event(
                action="record.read",
                object_type="record",
                outcome="allow",
                label=Classification.parse(record.classification),
                object_id=str(record.id),
            ),
        )


def read_via_service(platform, username: str, record_id: uuid.UUID):  # type: ignore[no-untyped-def]
    with platform.transaction() as session:
        return record_page(ctx_for(platform, session, username), record_id)[0]


def assert_integrity_failure(fn, *args) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityFailure) as info:
        fn(*args)
    assert "SECRET-ONLY-TEXT" not in str(info.value)
    assert "office contact" not in str(info.value).lower()


@pytest.fixture
def small(platform):  # type: ignore[no-untyped-def]
    return builders.small_world(platform)


def test_untampered_records_read(platform, small) -> None:  # type: ignore[no-untyped-def]
    view = read_via_service(platform, small.honsu, small.secret_ids[0])
    assert view.body.startswith("SECRET-ONLY-TEXT-0")
    assert (
        read_via_kernel(platform, small.honsu, small.official_ids[0])["title"] == "Office contact 0"
    )


def test_relabel_secret_as_official_fails(platform, small) -> None:  # type: ignore[no-untyped-def]
    rid = small.secret_ids[0]
    sql(platform, "UPDATE records SET classification = 'OFFICIAL' WHERE id = :id", ID, id=rid)
    assert_integrity_failure(read_via_kernel, platform, small.honsu, rid)
    assert_integrity_failure(read_via_service, platform, small.honsu, rid)
    # the frontline team member, to whom the relabel would "release" it, gets no plaintext either
    assert_integrity_failure(read_via_service, platform, small.com, rid)


def test_relabel_with_matching_key_level_still_fails(platform, small) -> None:  # type: ignore[no-untyped-def]
    rid = small.secret_ids[1]
    sql(platform, "UPDATE records SET classification = 'OFFICIAL' WHERE id = :id", ID, id=rid)
    sql(
        platform,
        "UPDATE data_keys SET level = 'OFFICIAL'"
        " WHERE id = (SELECT data_key_id FROM records WHERE id = :id)",
        ID,
        id=rid,
    )
    assert_integrity_failure(read_via_service, platform, small.com, rid)


def test_dropping_a_caveat_fails(platform, small) -> None:  # type: ignore[no-untyped-def]
    rid = small.official_ids[0]
    sql(platform, "UPDATE records SET caveats = 'PERSONAL' WHERE id = :id", ID, id=rid)
    assert_integrity_failure(read_via_service, platform, small.honsu, rid)


def test_swapped_ciphertexts_both_fail(platform, small) -> None:  # type: ignore[no-untyped-def]
    a, b = small.secret_ids[0], small.secret_ids[1]
    ct_a, ct_b = ciphertext(platform, a), ciphertext(platform, b)
    blob = bindparam("ct", type_=LargeBinary())
    sql(platform, "UPDATE records SET body_ct = :ct WHERE id = :id", ID, blob, id=a, ct=ct_b)
    sql(platform, "UPDATE records SET body_ct = :ct WHERE id = :id", ID, blob, id=b, ct=ct_a)
    assert_integrity_failure(read_via_service, platform, small.honsu, a)
    assert_integrity_failure(read_via_service, platform, small.honsu, b)
    assert read_via_service(platform, small.honsu, small.secret_ids[2]).body.startswith(
        "SECRET-ONLY-TEXT-2"
    )


def test_swapped_data_keys_fail(platform, small) -> None:  # type: ignore[no-untyped-def]
    a, b = small.secret_ids[0], small.secret_ids[2]
    ka, kb = data_key_of(platform, a).id, data_key_of(platform, b).id
    key = bindparam("k", type_=Uuid())
    sql(platform, "UPDATE records SET data_key_id = :k WHERE id = :id", ID, key, id=a, k=kb)
    sql(platform, "UPDATE records SET data_key_id = :k WHERE id = :id", ID, key, id=b, k=ka)
    assert_integrity_failure(read_via_service, platform, small.honsu, a)
    assert_integrity_failure(read_via_service, platform, small.honsu, b)


@pytest.mark.parametrize("where", [0, 5, 20, -1])
def test_one_edited_byte_fails(platform, small, where: int) -> None:  # type: ignore[no-untyped-def]
    rid = small.secret_ids[0]
    ct = bytearray(ciphertext(platform, rid))
    ct[where] ^= 0x01
    sql(
        platform,
        "UPDATE records SET body_ct = :ct WHERE id = :id",
        ID,
        bindparam("ct", type_=LargeBinary()),
        id=rid,
        ct=bytes(ct),
    )
    assert_integrity_failure(read_via_service, platform, small.honsu, rid)


def test_edited_wrapped_key_fails(platform, small) -> None:  # type: ignore[no-untyped-def]
    rid = small.secret_ids[0]
    key = data_key_of(platform, rid)
    key_id, wrapped = key.id, key.wrapped
    bad = bytearray(wrapped)
    bad[3] ^= 0x80
    sql(
        platform,
        "UPDATE data_keys SET wrapped = :w WHERE id = :k",
        bindparam("k", type_=Uuid()),
        bindparam("w", type_=LargeBinary()),
        k=key_id,
        w=bytes(bad),
    )
    assert_integrity_failure(read_via_service, platform, small.honsu, rid)


def test_tampered_row_in_a_timeline_is_marked_and_the_rest_stands(platform, small) -> None:  # type: ignore[no-untyped-def]
    """One tampered row neither garbles nor takes down the listing: it alone is withheld with an
    integrity marker, the failure is audited, and every other row still reads."""
    bad = small.secret_ids[0]
    sql(platform, "UPDATE records SET classification = 'OFFICIAL' WHERE id = :id", ID, id=bad)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, small.honsu)
        items = timeline(ctx, small.case_id).items
    marked = [i for i in items if getattr(i, "integrity_failure", False)]
    assert len(marked) == 1 and "failed its integrity check" in marked[0].text
    shown = {i.id for i in items if hasattr(i, "id")}
    assert bad not in shown and set(small.secret_ids[1:]) <= shown
    with platform.transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "integrity.fail")
        ).one()
    assert str(bad) in entry.detail and entry.outcome == "fail"
