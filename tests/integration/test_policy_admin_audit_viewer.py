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
from tests.factories import ctx_for


def test_entries_above_clearance_show_only_that_an_event_happened(seeded: Platform) -> None:
    with seeded.transaction() as session:
        ctx = ctx_for(seeded, session, "auditor.adams")  # BPSS: cleared to OFFICIAL-SENSITIVE
        rows: list[viewer.Row] = []
        page = 1
        while True:
            result = viewer.search(ctx, viewer.Filters(), page)
            rows += result.rows
            if not result.more:
                break
            page += 1
        redacted = [r for r in rows if r.redacted]
        assert redacted, "the demo data holds SECRET record entries"
        assert all(r.label == r.actor == r.action == r.detail == "" for r in redacted)
        assert all(r.label in ("OFFICIAL", "OFFICIAL-SENSITIVE") for r in rows if not r.redacted)
        assert "SECRET" not in result.readable_labels

        with pytest.raises(InvalidValue, match="cleared"):
            viewer.search(ctx, viewer.Filters(label="SECRET"))
        by_user = viewer.search(ctx, viewer.Filters(username="system", case="SP-1001"))
        assert by_user.rows and all(not r.redacted and r.actor == "system" for r in by_user.rows)


def test_a_cleared_auditor_sees_secret_entries(seeded: Platform) -> None:
    from shareplatform.accounts import admin

    with seeded.transaction() as session:
        admin.update_user(
            ctx_for(seeded, session, "user.admin"), "auditor.adams", admin.Changes(vetting="SC")
        )
    with seeded.transaction() as session:
        result = viewer.search(
            ctx_for(seeded, session, "auditor.adams"), viewer.Filters(label="SECRET")
        )
        assert result.rows and all(not r.redacted and r.label == "SECRET" for r in result.rows)
        assert result.highest.marking == "SECRET"


def test_export_csv_is_labelled_and_redacted(seeded: Platform) -> None:
    with seeded.transaction() as session:
        ctx = ctx_for(seeded, session, "auditor.adams")
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
