"""Functional tests: the Flask app over a private copy of the demo data (SQLite)."""

from __future__ import annotations

import pytest

from tests.factories import app_for


@pytest.fixture
def app(seeded):  # type: ignore[no-untyped-def]
    return app_for(seeded)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
