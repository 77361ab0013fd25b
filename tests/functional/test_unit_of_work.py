"""One request path for both faces: every audit entry a request wrote is committed before its
answer leaves, and an answer whose work could not be committed is never sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import g
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from shareplatform.accounts import tokens
from shareplatform.accounts.models import User
from shareplatform.audit.models import AuditEntry
from tests.factories import app_for
from tests.functional.test_web_pages import case_id
from tests.functional.test_web_posting import _note, _post
from tests.security.demo_support import secret_items, shows_secret
from tests.support.web import csrf_of, sign_in, text


class Appended(list[int]):
    """The sequence numbers of the audit entries written since the last reset, and how many
    entries were queued (shareplatform/audit/log.py writes a transaction's queue at commit)."""

    queued = 0

    def clear(self) -> None:
        super().clear()
        self.queued = 0


@pytest.fixture
def appended(app) -> Iterator[Appended]:  # type: ignore[no-untyped-def]
    audit = app.extensions["shareplatform"].access.audit
    seen = Appended()
    append, write = audit.append, audit.write_queued

    def queueing(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.queued += 1
        return append(*args, **kwargs)

    def writing(*args, **kwargs):  # type: ignore[no-untyped-def]
        written = write(*args, **kwargs)
        seen.extend(entry.seq for entry in written)
        return written

    audit.append, audit.write_queued = queueing, writing
    yield seen
    audit.append, audit.write_queued = append, write


def _committed(seeded, seqs: list[int]) -> set[int]:  # type: ignore[no-untyped-def]
    """Read from another connection: only committed entries are visible there."""
    with seeded.transaction() as s:
        return set(s.scalars(select(AuditEntry.seq).where(AuditEntry.seq.in_(seqs))))


def _token(seeded, username: str) -> str:  # type: ignore[no-untyped-def]
    with seeded.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        return tokens.create_token(s, seeded.access, user, "uow", "read-write", 1, by_system=True)[
            1
        ]


def test_every_audit_entry_a_request_wrote_is_committed_before_it_answers(
    client, seeded, appended
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    mine, other = case_id(seeded, "SP-1001"), case_id(seeded, "SP-1002")
    bearer = {"Authorization": f"Bearer {_token(seeded, 'com.cole')}"}
    requests = [
        ("page", lambda: client.get("/cases")),
        ("case page", lambda: client.get(f"/cases/{mine}")),
        ("refused case", lambda: client.get(f"/cases/{other}")),
        ("post", lambda: _post(client, f"/cases/{mine}/records/new", _note())),
        ("api timeline", lambda: client.get(f"/api/v1/cases/{mine}/records", headers=bearer)),
        ("api refused", lambda: client.get(f"/api/v1/cases/{other}/records", headers=bearer)),
        (
            "api post",
            lambda: client.post(
                f"/api/v1/cases/{mine}/records",
                json={
                    "record_type": "CONTACT_PHONE",
                    "occurred_on": "2024-03-01",
                    "classification": "OFFICIAL-SENSITIVE",
                    "title": "Phone call",
                    "body": "Checked in by phone.",
                },
                headers=bearer,
            ),
        ),
    ]
    for name, send in requests:
        appended.clear()
        response = send()
        assert response.status_code in (200, 201, 302, 403, 404), (name, response.status_code)
        assert appended, f"{name}: the request wrote no audit entry"
        assert _committed(seeded, appended) == set(appended), name


def test_refused_input_leaves_nothing_written(client, seeded, appended) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, seeded, "com.cole")
    url = f"/cases/{case_id(seeded, 'SP-1001')}/records/new"
    token = csrf_of(text(client.get(url)))
    appended.clear()
    # the service decides (and audits) before it refuses the input: both are rolled back
    refused = client.post(
        url, data={"csrf_token": token, **_note(record_type="CONTACT_JOINT_VISIT")}
    )
    assert refused.status_code == 400
    assert appended.queued  # the write was decided and audited, then rolled back
    # what stays written is only the reads that rendered the form again (each audited); nothing
    # of the refused write
    from shareplatform.audit.models import AuditEntry

    with seeded.transaction() as s:
        actions = set(
            s.scalars(select(AuditEntry.action).where(AuditEntry.seq.in_(list(appended))))
        )
    assert not {a for a in actions if a.startswith("record.")}, actions


def test_an_answer_whose_work_cannot_be_committed_is_never_sent(seeded) -> None:  # type: ignore[no-untyped-def]
    app = app_for(seeded)

    @app.before_request
    def _failing_unit_of_work() -> None:
        from shareplatform.web import db_session

        session = db_session()

        def fail() -> None:
            raise OperationalError("COMMIT", {}, Exception("the database went away"))

        who = g.get("principal")
        if who is not None and who.mfa_done:  # the sign-in itself still works
            session.commit = fail  # type: ignore[method-assign]

    client = app.test_client()
    sign_in(client, seeded, "honsu.hughes")
    response = client.get(f"/cases/{case_id(seeded, 'SP-1001')}")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    body = text(response)
    assert shows_secret(body, secret_items(seeded), ids=True) == [] and "Closed session" not in body
