"""The policy in the database: a small adapter on the app's own session, and the version counter."""

from __future__ import annotations

from casbin.persist.adapter import Adapter
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..db import utcnow
from .models import PolicyRule, PolicyState
from .policy_files import Rule

_COLUMNS = ("v0", "v1", "v2", "v3", "v4", "v5")


def load_rules(session: Session) -> list[Rule]:
    rows = session.scalars(select(PolicyRule).order_by(PolicyRule.position, PolicyRule.id))
    return [
        Rule(
            r.ptype,
            tuple(v for v in (r.v0, r.v1, r.v2, r.v3, r.v4, r.v5)[: _width(r.ptype)]),
            r.reason,
        )
        for r in rows
    ]


def _width(ptype: str) -> int:
    return 6 if ptype == "p" else 2


def current_version(session: Session) -> int:
    return session.scalar(select(PolicyState.version).where(PolicyState.id == 1)) or 0


def replace_rules(session: Session, rules: list[Rule]) -> int:
    """Replace the whole policy and bump its version, in the caller's transaction."""
    session.execute(delete(PolicyRule))
    for position, rule in enumerate(rules):
        values = dict(zip(_COLUMNS, rule.values, strict=False))
        session.add(PolicyRule(position=position, ptype=rule.ptype, reason=rule.reason, **values))
    session.execute(
        update(PolicyState)
        .where(PolicyState.id == 1)
        .values(version=PolicyState.version + 1, updated_at=utcnow())
    )
    session.flush()
    return current_version(session)


class RuleListAdapter(Adapter):
    """pycasbin adapter over an in-memory rule list (read from the database by load_rules)."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    def load_policy(self, model) -> None:
        for rule in self.rules:
            model.add_policy(rule.ptype, rule.ptype, list(rule.values))

    def save_policy(self, model) -> bool:
        raise NotImplementedError(
            "the policy is saved through replace_rules, never by the enforcer"
        )
