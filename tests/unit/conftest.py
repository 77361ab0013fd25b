"""Fixtures for the fast unit tier: no database, no network."""

from __future__ import annotations

import pytest

from shareplatform.access import policy_files
from shareplatform.access.enforcer import PolicyEngine
from shareplatform.access.policy_files import Rule


@pytest.fixture(scope="session")
def shipped_rules() -> list[Rule]:
    """The policy shipped in policies/policy.csv, parsed once."""
    return policy_files.read()


@pytest.fixture(scope="session")
def shipped_engine(shipped_rules: list[Rule]) -> PolicyEngine:
    """One engine on the shipped policy; its decision cache is shared by the whole session."""
    return PolicyEngine(shipped_rules, version=1)
