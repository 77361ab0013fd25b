"""The policy in the database: a small adapter on the app's own session, and the version counter."""

from __future__ import annotations

import hashlib
import json

from casbin.persist.adapter import Adapter
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..crypto.attested import attestor_of
from ..db import utcnow
from ..domain.errors import IntegrityFailure
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


def rules_digest(rules: list[Rule]) -> str:
    """SHA-256 of the rule list in order: lines, values and reasons."""
    text = json.dumps([[r.ptype, list(r.values), r.reason] for r in rules], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def verified_rules(session: Session) -> list[Rule]:
    """The live rules, only if they are the ones the policy service last wrote (its stamp on the
    version row verifies and the rules still hash to its digest); else IntegrityFailure."""
    rules = load_rules(session)
    state = session.get(PolicyState, 1)
    if state is None or not state.facts_intact:
        problem = "its version record does not carry a valid stamp"
    elif state.rules_digest != rules_digest(rules):
        problem = "its rules differ from the version the policy service applied"
    else:
        return rules
    if not rules and (state is None or state.rules_digest is None):
        return rules  # nothing applied yet: an empty policy allows nothing
    raise IntegrityFailure(
        "policy",
        "live",
        f"The access policy failed its integrity check ({problem}); nothing is allowed until an "
        "administrator restores an approved version.",
    )


def replace_rules(session: Session, rules: list[Rule]) -> int:
    """Replace the whole policy and bump its version, in the caller's transaction."""
    session.execute(delete(PolicyRule))
    for position, rule in enumerate(rules):
        values = dict(zip(_COLUMNS, rule.values, strict=False))
        session.add(PolicyRule(position=position, ptype=rule.ptype, reason=rule.reason, **values))
    # stamped here, with the key: replacing the rules is also how a failed policy is mended
    version = current_version(session) + 1
    stamped: dict[str, object] = {"id": 1, "version": version, "rules_digest": rules_digest(rules)}
    session.execute(
        update(PolicyState)
        .where(PolicyState.id == 1)
        .values(
            version=version,
            rules_digest=stamped["rules_digest"],
            updated_at=utcnow(),
            facts_mac=attestor_of(session).mac(PolicyState, stamped),
        )
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return version


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
