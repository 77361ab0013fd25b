"""The test data factories make real rows: a factory record opens through the access layer for
those the policy lets read it and for nobody else; traits land where the product reads them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shareplatform.accounts.secrets import check_password
from shareplatform.accounts.services import totp_secret
from shareplatform.audit.models import AuditEntry
from shareplatform.domain.errors import InvalidValue, NotFound
from shareplatform.records.services import record_page
from tests.support import factories as f


def test_records_open_through_the_access_layer_by_the_policy(platform) -> None:  # type: ignore[no-untyped-def]
    with platform.transaction() as s:
        honsu = f.user(platform, s, "honsu.f", role="HONSU", vetting="DV", nsd_unit="North")
        com = f.user(platform, s, "com.f", role="COM", nsd_unit="North")
        outsider = f.user(platform, s, "com.far", role="COM", nsd_unit="London")
        c = f.case(platform, s, "F-1", team=[(com, "COM")], panel=[(honsu, "HONSU")])
        secret = f.record(platform, s, c.id, honsu, label="SECRET", orcon=True)
        note = f.record(platform, s, c.id, com, body="An office contact.", joint=["CTNM"])
        assert (secret.classification, secret.caveats, secret.originating_agency) == (
            "SECRET",
            "ORCON",
            "NSD",
        )
        assert outsider.agency == "NSD" and com.must_enrol is False and com.password_hash is None
        assert totp_secret(platform.service_secrets, com) == f.TOTP
        ids = (secret.id, note.id)
    with platform.transaction() as s:
        view, _ = record_page(f.ctx_for(platform, s, "honsu.f"), ids[0])
        assert view.body.startswith("SECRET-ONLY-TEXT-")
        view, _ = record_page(f.ctx_for(platform, s, "com.f"), ids[1])
        assert view.body == "An office contact." and sorted(view.attendees) == ["CTNM", "NSD"]
        with pytest.raises(NotFound):  # frontline: never the SECRET record
            record_page(f.ctx_for(platform, s, "com.f"), ids[0])
        with pytest.raises(NotFound):  # not on the case
            record_page(f.ctx_for(platform, s, "com.far"), ids[1])
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "record.create", AuditEntry.label == "SECRET"
            )
        ).one()
        assert entry.actor == "system" and entry.case_id == str(c.id)


def test_traits_and_domain_rules(platform) -> None:  # type: ignore[no-untyped-def]
    today = date.today()
    with platform.transaction() as s:
        pom = f.user(platform, s, role="POM", vetting="CTC", totp=None)
        assert (pom.agency, pom.must_enrol, pom.password_hash) == ("PRISON", True, None)
        signs_in = f.user(platform, s, role="SOL", password=f.PASSWORD)
        assert check_password(signs_in.password_hash, f.PASSWORD) and not signs_in.must_enrol
        gone = f.user(platform, s, role="COM", expires=today - timedelta(days=1))
        c = f.case(
            platform,
            s,
            phase="CUSTODY",
            team=[f.Member(pom, "POM", lead=True), (gone, "COM", today - timedelta(days=9), today)],
            levels=[(2, today - timedelta(days=30), "Stepped down.", pom)],
        )
        assert (c.lead_agency, c.mappa_level) == ("PRISON", 2)
        with pytest.raises(InvalidValue):  # minutes are at least OFFICIAL-SENSITIVE
            f.record(platform, s, c.id, pom, label="OFFICIAL", record_type="MINUTES")
    with platform.transaction() as s:
        subject = f.ctx_for(platform, s, gone.username).subject
        assert subject.clearance is None and c.id in subject.team_cases
