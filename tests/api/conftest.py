"""API fixtures: a Flask app over a private copy of the demo data, and tokens for demo users."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from shareplatform.accounts import tokens
from shareplatform.accounts.models import User
from tests.factories import app_for

TokenFor = Callable[..., str]


@pytest.fixture
def app(seeded):  # type: ignore[no-untyped-def]
    application = app_for(seeded)
    application.config["API_RATE_LIMIT"] = 10_000
    yield application
    application.extensions["shareplatform"].db.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def token_for(seeded) -> TokenFor:  # type: ignore[no-untyped-def]
    def make(
        username: str, scope: str = "read-write", days: int = 30, name: str | None = None
    ) -> str:
        with seeded.transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None, username
            _, raw = tokens.create_token(
                session,
                seeded.access,
                user,
                name or f"test {scope} {days}",
                scope,
                days,
                by_system=True,
            )
        return raw

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
