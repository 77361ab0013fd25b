"""The auditor's audit log view: redaction above clearance, filters, CSV export, verification."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from shareplatform.audit_viewer import services as viewer
from shareplatform.db import utcnow
from shareplatform.domain.errors import InvalidValue, NotPermitted
from shareplatform.platform import Platform
from tests.support.factories import case, ctx_for, record, user

REFERENCE = "AU-1"


def _audited(platform: Platform) -> None:
    """An auditor and a user administrator (both BPSS), and a case whose opening and records the
    system audited: OFFICIAL-SENSITIVE entries and, for its SECRET minutes, SECRET ones."""
    with platform.transaction() as s:
        user(platform, s, "auditor.adams", role="AUDITOR", vetting="BPSS")
        user(platform, s, "user.admin", role="USER_ADMIN", vetting="BPSS")
        honsu = user(platform, s, "honsu.hughes", role="HONSU", vetting="DV", nsd_unit="North")
        com = user(platform, s, "com.cole", role="COM", nsd_unit="North")
        c = case(platform, s, REFERENCE, team=[(com, "COM")], panel=[(honsu, "HONSU")])
        record(platform, s, c.id, com, record_type="CONTACT_OFFICE")
        for n in range(2):
            record(
                platform,
                s,
                c.id,
                honsu,
                label="SECRET",
                record_type="MINUTES",
                body=f"SECRET-ONLY-TEXT-{n}: the closed session decided to act.",
            )


def test_entries_above_clearance_show_only_that_an_event_happened(platform: Platform) -> None:
    _audited(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "auditor.adams")  # BPSS: cleared to OFFICIAL-SENSITIVE
        rows: list[viewer.Row] = []
        page = 1
        while True:
            result = viewer.search(ctx, viewer.Filters(), page)
            rows += result.rows
            if not result.more:
                break
            page += 1
        redacted = [r for r in rows if r.redacted]
        assert redacted, "the system audited SECRET records"
        assert all(r.label == r.actor == r.action == r.detail == "" for r in redacted)
        assert all(r.label in ("OFFICIAL", "OFFICIAL-SENSITIVE") for r in rows if not r.redacted)
        assert "SECRET" not in result.readable_labels

        with pytest.raises(InvalidValue, match="cleared"):
            viewer.search(ctx, viewer.Filters(label="SECRET"))
        by_user = viewer.search(ctx, viewer.Filters(username="system", case=REFERENCE))
        assert by_user.rows and all(not r.redacted and r.actor == "system" for r in by_user.rows)


def test_a_cleared_auditor_sees_secret_entries(platform: Platform) -> None:
    from shareplatform.accounts import admin, approvals

    _audited(platform)
    with platform.transaction() as session:
        user(platform, session, "user.admin2", role="USER_ADMIN", vetting="BPSS")
        # raising clearance takes two administrators (shareplatform/accounts/duties.py)
        asked = admin.update_user(
            ctx_for(platform, session, "user.admin"),
            "auditor.adams",
            admin.Changes(vetting="SC"),
            "cleared for SECRET audit",
        )
        assert not asked.applied and asked.request_id is not None
        approvals.approve(ctx_for(platform, session, "user.admin2"), asked.request_id)
    with platform.transaction() as session:
        result = viewer.search(
            ctx_for(platform, session, "auditor.adams"), viewer.Filters(label="SECRET")
        )
        assert result.rows and all(not r.redacted and r.label == "SECRET" for r in result.rows)
        assert result.highest.marking == "SECRET"


def test_export_csv_is_labelled_and_redacted(platform: Platform) -> None:
    _audited(platform)
    with platform.transaction() as session:
        ctx = ctx_for(platform, session, "auditor.adams")
        text, label, count = viewer.export_csv(
            ctx, viewer.Filters(since=utcnow() - timedelta(days=1))
        )
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [f"# {label.marking}"] and lines[-1] == [f"# {label.marking}"]
    assert label.marking == "OFFICIAL-SENSITIVE" and count == len(lines) - 3
    assert "SECRET-ONLY-TEXT" not in text and ",SECRET," not in text
    assert any(viewer.REDACTED in line for line in lines)


def test_chain_status_and_permissions(platform: Platform) -> None:
    from datetime import date

    from shareplatform.accounts.services import NewUser, create_user

    with platform.transaction() as session:
        create_user(
            session, NewUser("auditor.a", "A", "AUDITOR", "BPSS", date.today() + timedelta(days=9))
        )
        create_user(
            session,
            NewUser("policy.p", "P", "POLICY_ADMIN", "SC", date.today() + timedelta(days=9)),
        )
    with platform.transaction() as session:
        status = viewer.chain_status(ctx_for(platform, session, "auditor.a"))
        assert status.ok and status.entries >= 1
        with pytest.raises(NotPermitted):
            viewer.search(ctx_for(platform, session, "policy.p"), viewer.Filters())
        with pytest.raises(InvalidValue):
            viewer.search(ctx_for(platform, session, "auditor.a"), viewer.Filters(outcome="maybe"))
