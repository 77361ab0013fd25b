"""MAPPA exports: minutes with banners and paragraph labels under an export cap; the inspection
export and `audit verify-export` (offline verification of signatures and hashes)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from shareplatform.domain.errors import NotFound, NotPermitted
from shareplatform.mappa.exports import (
    inspection_export,
    minutes_document,
    to_csv,
    to_html,
    verify_export,
)
from tests.factories import app_for
from tests.integration.mappa_world import build_world, decide, decision_data, disclosure, meeting


@pytest.fixture
def recorded(platform):  # type: ignore[no-untyped-def]
    world = build_world(platform)
    with platform.transaction() as s:
        mt = meeting(world, s)
        dc = disclosure(world, s)
        dec = decide(world, s, decision_data(world, mt.id, [dc.id]))
    return world, mt.id, dec.id


def test_minutes_export_cap_and_banners(recorded) -> None:  # type: ignore[no-untyped-def]
    world, mt, _dec = recorded
    with world.platform.transaction() as s:
        low = minutes_document(world.ctx(s, "honsu"), mt, "OFFICIAL-SENSITIVE")
        high = minutes_document(world.ctx(s, "honsu"), mt, "SECRET")
    low_html, high_html = to_html(low), to_html(high)
    assert str(low.banner) == "OFFICIAL-SENSITIVE" and low.withheld > 0
    for secret in (
        "SECRET-CLOSED-TEXT",
        "DECISION-TEXT",
        "ACTION-ONE-SECRET",
        "SS/2025",
        "Lro Person, Lro",
    ):
        assert secret not in low_html
    assert (
        "OPEN-PART-TEXT" in low_html and "BREAKOUT-TEXT" in low_html
    )  # the sanitised release is OS
    assert (
        low_html.count('class="banner banner-') == 2
        and low_html.count(">OFFICIAL-SENSITIVE</div>") == 2
    )
    assert "@media print" in low_html
    assert str(high.banner) == "SECRET / ORCON" and high.withheld == 0
    for text in (
        "SECRET-CLOSED-TEXT",
        "DECISION-TEXT",
        "RATIONALE-TEXT",
        "ACTION-ONE-SECRET",
        "SS/2025/REF-77",
    ):
        assert text in high_html
    assert high_html.count(">SECRET / ORCON</div>") == 2
    # every paragraph carries its own label
    assert all(
        p.label.classification.marking in ("OFFICIAL-SENSITIVE", "SECRET") for p in high.paragraphs
    )
    rows = list(csv.reader(io.StringIO(to_csv(high))))
    assert rows[0][:2] == ["banner", "SECRET / ORCON"] and rows[-1][:2] == [
        "banner",
        "SECRET / ORCON",
    ]
    assert {r[1] for r in rows[2:-1]} == {"OFFICIAL-SENSITIVE", "SECRET", "SECRET / ORCON"}
    closed = [r for r in rows if r[0] == "Closed part"]
    assert closed and all(r[1] == "SECRET" for r in closed)


def test_minutes_export_permissions(recorded) -> None:  # type: ignore[no-untyped-def]
    world, mt, _dec = recorded
    with world.platform.transaction() as s:
        admin = minutes_document(
            world.ctx(s, "admin"), mt, "OFFICIAL-SENSITIVE"
        )  # the MAPPA administrator
        assert "OPEN-PART-TEXT" in to_html(admin) and "BREAKOUT" not in to_html(admin)
        with pytest.raises(NotPermitted, match="SECRET"):
            minutes_document(world.ctx(s, "admin"), mt, "SECRET")
        with pytest.raises(NotPermitted):
            minutes_document(
                world.ctx(s, "com"), mt, "OFFICIAL-SENSITIVE"
            )  # frontline: reads, does not distribute


def test_inspection_export_verifies_offline_and_detects_tampering(recorded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world, _mt, dec = recorded
    with world.platform.transaction() as s:
        data = inspection_export(world.ctx(s, "lro"), world.case_id)
        with pytest.raises(NotFound):  # as for a case that does not exist
            inspection_export(world.ctx(s, "com"), world.case_id)
    assert data["banner"] == "SECRET"
    [d] = data["decisions"]
    assert (
        d["id"] == str(dec) and d["verified_on_export"] and len(bytes.fromhex(d["signature"])) == 64
    )
    assert d["content"]["decision"].startswith("DECISION-TEXT") and d["audit"]["seq"] > 0
    assert verify_export(json.loads(json.dumps(data))).ok

    app = app_for(world.platform)
    good = tmp_path / "export.json"
    good.write_text(json.dumps(data))
    result = app.test_cli_runner().invoke(args=["audit", "verify-export", str(good)])
    assert result.exit_code == 0, result.output
    assert "every decision verifies" in result.output

    d["content"]["rationale"] = "RATIONALE rewritten after the fact"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(data))
    result = app.test_cli_runner().invoke(args=["audit", "verify-export", str(bad)])
    assert result.exit_code == 1
    assert "content does not match its recorded hash" in result.output

    forged = json.loads(good.read_text())
    forged["decisions"][0]["actions"][0]["content"]["due_on"] = "2099-01-01"
    assert not verify_export(forged).ok
