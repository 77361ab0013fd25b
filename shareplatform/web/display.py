"""Names a person reads instead of the codes the platform stores: `{{ code | display_name }}`.

Roles, agencies, record types, case categories and phases take their titles from
shareplatform/domain; a feature's own vocabulary (a StrEnum with a `title`, such as MAPPA meeting
types) is found among the enums the running app has loaded, so this layer imports no feature.
A code that two vocabularies title differently, or that none knows, is shown as it is.
"""

from __future__ import annotations

import enum
import functools

from ..domain.agencies import Agency, Role
from ..domain.cases import CaseCategory, Phase, RecordType

DOMAIN_VOCABULARIES: tuple[type[enum.Enum], ...] = (Role, Agency, RecordType, CaseCategory, Phase)


def _enum_classes(root: type[enum.Enum]) -> list[type[enum.Enum]]:
    found, todo = [], list(root.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _titled(cls: type[enum.Enum]) -> dict[str, str]:
    if not isinstance(getattr(cls, "title", None), property):
        return {}
    titles = {}
    for member in cls:
        try:
            titles[str(member.value)] = str(member.title)  # type: ignore[attr-defined]
        except (KeyError, AttributeError):
            continue
    return titles


@functools.cache
def _feature_titles() -> dict[str, str]:
    """Titles of the other shareplatform vocabularies, without codes they disagree on."""
    titles: dict[str, str] = {}
    clashes: set[str] = set()
    for cls in _enum_classes(enum.StrEnum):
        if not cls.__module__.startswith("shareplatform.") or cls in DOMAIN_VOCABULARIES:
            continue
        for code, title in _titled(cls).items():
            if titles.setdefault(code, title) != title:
                clashes.add(code)
    return {code: title for code, title in titles.items() if code not in clashes}


_DOMAIN_TITLES: dict[str, str] = {}
for _vocabulary in reversed(DOMAIN_VOCABULARIES):  # roles win over agencies on a shared code
    _DOMAIN_TITLES.update(_titled(_vocabulary))


def display_name(value: object) -> str:
    """The title of a role, agency, record type or other coded value; the value if none."""
    if value is None:
        return ""
    title = getattr(value, "title", None)
    if isinstance(value, enum.Enum) and isinstance(title, str):
        return title
    code = str(value)
    return _DOMAIN_TITLES.get(code) or _feature_titles().get(code) or code


__all__ = ["display_name"]
