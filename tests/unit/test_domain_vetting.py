"""Vetting levels, clearance and expiry (shareplatform/domain/vetting.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shareplatform.domain.errors import InvalidValue
from shareplatform.domain.labels import Classification
from shareplatform.domain.vetting import Vetting, VettingStatus

TODAY = date(2026, 6, 1)
C = Classification

# docs/domain.md, "Vetting": BPSS reaches OFFICIAL-SENSITIVE, CTC grants nothing beyond BPSS,
# SC reaches SECRET, DV would reach TOP SECRET, which is not held here, so SECRET.
CLEARS = {"NONE": None, "BPSS": C.OFFICIAL_SENSITIVE, "CTC": C.OFFICIAL_SENSITIVE}
CLEARS |= {"SC": C.SECRET, "DV": C.SECRET}


@pytest.mark.parametrize(("level", "clearance"), list(CLEARS.items()))
def test_each_level_clears_to_its_domain_ceiling(level: str, clearance: object) -> None:
    assert Vetting.parse(level).clearance is clearance
    assert VettingStatus(Vetting.parse(level), None).clearance(TODAY) is clearance


def test_ctc_grants_nothing_beyond_bpss() -> None:
    assert Vetting.CTC.clearance == Vetting.BPSS.clearance


@pytest.mark.parametrize("text", ["sc", " dv ", "Bpss", "ctc"])
def test_parse_is_case_insensitive(text: str) -> None:
    assert Vetting.parse(text).value == text.strip().upper()


@pytest.mark.parametrize("text", ["TS", "NPPV3", "", None, "S C"])
def test_unknown_vetting_level_is_refused(text: object) -> None:
    with pytest.raises(InvalidValue) as err:
        Vetting.parse(text)
    assert err.value.kind == "vetting level"


@pytest.mark.parametrize(
    ("offset", "expired"),
    [(-365, True), (-1, True), (0, False), (1, False), (365, False)],
    ids=["year-ago", "yesterday", "today", "tomorrow", "next-year"],
)
def test_expiry_edge_days(offset: int, expired: bool) -> None:
    status = VettingStatus(Vetting.SC, TODAY + timedelta(days=offset))
    assert status.expired(TODAY) is expired
    assert status.clearance(TODAY) is (None if expired else C.SECRET)


def test_vetting_without_expiry_never_expires() -> None:
    status = VettingStatus(Vetting.BPSS, None)
    assert not status.expired(date(2999, 12, 31))
    assert status.clearance(date(2999, 12, 31)) is C.OFFICIAL_SENSITIVE


def test_access_follows_expiry_automatically() -> None:
    status = VettingStatus(Vetting.DV, date(2026, 6, 30))
    assert status.clearance(date(2026, 6, 30)) is C.SECRET
    assert status.clearance(date(2026, 7, 1)) is None


@pytest.mark.parametrize(("level", "ceiling"), list(CLEARS.items()))
@pytest.mark.parametrize("label", list(Classification))
def test_may_label_only_at_cleared_levels(level: str, ceiling: object, label: C) -> None:
    status = VettingStatus(Vetting.parse(level), None)
    expected = isinstance(ceiling, Classification) and label <= ceiling
    assert status.may_label(label, TODAY) is expected


def test_expired_vetting_may_label_nothing() -> None:
    status = VettingStatus(Vetting.SC, TODAY - timedelta(days=1))
    assert not any(status.may_label(c, TODAY) for c in Classification)
