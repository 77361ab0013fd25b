"""`flask search backfill-tokens`: nominals created before migration 0014 (no search tokens) are
found by partial name once the command has run; a re-run changes nothing; one audit entry per
run with the count, and every batch opened through the system read path is audited first."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select

from shareplatform.audit.models import AuditEntry
from shareplatform.cases.models import NominalToken
from shareplatform.cases.search import BACKFILL_EVENT
from shareplatform.cases.services import add_member, add_nominal, open_case, search_nominals
from tests.factories import ctx_for
from tests.security import builders
from tests.support import factories as f


@pytest.fixture
def old_nominal(platform):  # type: ignore[no-untyped-def]
    """A nominal on a case the user may see, its tokens deleted as a pre-0014 row has none."""
    with platform.transaction() as s:
        com = builders.user(s, "s.com", "COM", "SC", nsd_unit="North")
        n = add_nominal(
            s,
            platform.system_writer,
            platform.indexer,
            given_name="Bilal",
            family_name="Hussein",
            aliases=["Billy Hussain"],
            date_of_birth=date(1990, 3, 14),
        )
        c = open_case(
            s,
            platform.system_writer,
            nominal=n,
            reference="SP-950",
            category="TERRORIST",
            phase="COMMUNITY",
            lead_agency="NSD",
            nsd_unit="North",
            ct_unit=None,
        )
        s.flush()
        add_member(s, c, com, "COM", date.today() - timedelta(days=10))
        s.execute(delete(NominalToken).where(NominalToken.nominal_id == n.id))
    return platform


@pytest.fixture
def cli(old_nominal):  # type: ignore[no-untyped-def]
    app = f.app_for(old_nominal)

    def run(*args: str) -> str:
        result = app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    yield run
    app.extensions["shareplatform"].db.dispose()


def _found(platform, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        return [n.full_name for _, n in search_nominals(ctx_for(platform, s, "s.com"), query)]


def _tokens(platform) -> list[tuple[object, str, bytes]]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        rows = s.execute(select(NominalToken.nominal_id, NominalToken.kind, NominalToken.digest))
        return sorted((n, k, d) for n, k, d in rows)


def _entries(platform, action: str) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [(e.actor, json.loads(e.detail)) for e in rows]


def test_backfill_makes_an_old_nominal_searchable_once(old_nominal, cli) -> None:  # type: ignore[no-untyped-def]
    platform = old_nominal
    assert _tokens(platform) == []
    assert _found(platform, "huss") == [] and _found(platform, "Husain") == []

    out = cli("search", "backfill-tokens", "--batch", "1")
    assert "search tokens written for 1 nominals" in out
    assert _found(platform, "huss") == ["Bilal Hussein"]
    assert _found(platform, "Husain") == ["Bilal Hussein"]  # sound-alike
    assert _found(platform, "14/03/1990") == ["Bilal Hussein"]
    tokens = _tokens(platform)

    assert "for 0 nominals" in cli("search", "backfill-tokens")  # a re-run changes nothing
    assert _tokens(platform) == tokens
    runs = _entries(platform, "search.backfill")
    assert [d["nominals"] for _, d in runs] == [1, 0] and all(a == "system" for a, _ in runs)
    opened = _entries(platform, BACKFILL_EVENT)  # the read, audited before the names opened
    assert len(opened) == 1 and opened[0][0] == "system" and opened[0][1]["count"] == 1


def test_the_system_read_path_opens_nothing_secret(platform) -> None:  # type: ignore[no-untyped-def]
    """The operator's read path stops at OFFICIAL-SENSITIVE: an operator acting alone, with the
    keys, still reaches no SECRET content through it (and nothing is audited as opened)."""
    from shareplatform.audit.log import Event
    from shareplatform.domain.errors import NotPermitted
    from shareplatform.domain.labels import Classification
    from shareplatform.records.models import Record

    builders.small_world(platform)
    with platform.transaction() as s:
        secret = s.scalars(select(Record).where(Record.classification == "SECRET")).first()
        assert secret is not None
        event = Event(
            action="system.read", object_type="record", outcome="allow", label=Classification.SECRET
        )
        with pytest.raises(NotPermitted):
            platform.system_writer.open_many(s, [secret], event)
    assert _entries(platform, "system.read") == []
