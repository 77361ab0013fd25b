from datetime import date

import pytest

from shareplatform.domain import (
    Agency,
    Caveat,
    Classification,
    InvalidValue,
    Label,
    Role,
    Vetting,
    VettingStatus,
    dominates,
    highest,
)
from shareplatform.domain.cases import MappaLevel, Phase


def test_classification_ordering_and_top_secret_refused() -> None:
    assert Classification.OFFICIAL < Classification.OFFICIAL_SENSITIVE < Classification.SECRET
    assert Classification.parse("official-sensitive") is Classification.OFFICIAL_SENSITIVE
    with pytest.raises(InvalidValue, match="up to SECRET"):
        Classification.parse("TOP SECRET")
    with pytest.raises(InvalidValue):
        Classification.parse("RESTRICTED")


def test_label_without_classification_fails_closed() -> None:
    with pytest.raises(InvalidValue):
        Label.of(None, ["ORCON"])
    with pytest.raises(InvalidValue):
        Label.of("", [])
    label = Label.of("SECRET", "orcon, uk eyes only")
    assert label.orcon and label.caveats == {Caveat.ORCON, Caveat.UK_EYES_ONLY}
    assert label.canonical() == "SECRET|ORCON,UK EYES ONLY"
    with pytest.raises(InvalidValue):
        Label.of("OFFICIAL", ["NOFORN"])


def test_vetting_clearance_and_expiry() -> None:
    today = date(2026, 6, 1)
    assert VettingStatus(Vetting.SC, date(2027, 1, 1)).clearance(today) is Classification.SECRET
    assert VettingStatus(Vetting.CTC, None).clearance(today) is Classification.OFFICIAL_SENSITIVE
    assert VettingStatus(Vetting.SC, date(2026, 5, 31)).clearance(today) is None
    assert not VettingStatus(Vetting.BPSS, None).may_label(Classification.SECRET, today)
    with pytest.raises(InvalidValue):
        Vetting.parse("TS")


def test_roles_and_corridor() -> None:
    assert Role.HONSU.in_corridor and Role.LRO.in_corridor
    assert (
        not Role.POM.in_corridor and not Role.COM.in_corridor and not Role.MAPPA_ADMIN.in_corridor
    )
    assert Role.POM.info.agency is Agency.PRISON
    with pytest.raises(InvalidValue):
        Role.parse("SUPERUSER")


def test_case_vocabulary() -> None:
    assert MappaLevel.parse("3") is MappaLevel.SENIOR_MULTI_AGENCY
    assert Phase.parse("post sentence") is Phase.POST_SENTENCE
    with pytest.raises(InvalidValue):
        MappaLevel.parse(4)
    assert dominates(Classification.SECRET, Classification.OFFICIAL)
    assert highest([]) is Classification.OFFICIAL
