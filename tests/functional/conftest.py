"""Functional tests: the Flask app through its test client.

The app runs over `app_platform`: a private copy of the demo data set (SQLite), unless the module
overrides `app_platform` to build its own data over `platform` with tests/support/factories.py
(then on SQLite and PostgreSQL).
"""

from __future__ import annotations

import pytest

from tests.factories import app_for


@pytest.fixture
def app_platform(seeded):  # type: ignore[no-untyped-def]
    """The platform the app runs over: the demo data set, unless a module builds its own."""
    return seeded


@pytest.fixture
def app(app_platform):  # type: ignore[no-untyped-def]
    application = app_for(app_platform)
    yield application
    application.extensions["shareplatform"].db.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
