"""SQL statements per request on each path, secure against its plaintext twin: the case page, one
post_record, one API request. Counted with a `before_cursor_execute` listener on the engine (one
count per cursor execute: an executemany is one statement), after one warm-up call of each."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from shareplatform import create_app
from shareplatform.accounts.models import User
from shareplatform.accounts.tokens import create_token

from .core import Result
from .env import CORRIDOR_USER, Env, config_for
from .m_write import plain_writer, secure_writer
from .page import plain_page, secure_page


def kind(statement: str) -> str:
    """SELECT, INSERT, UPDATE, DELETE, ... : the statement's first keyword."""
    words = statement.lstrip().split(None, 1)
    return words[0].upper() if words else "?"


@contextmanager
def counted(engine: Engine) -> Iterator[Counter[str]]:
    kinds: Counter[str] = Counter()

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        kinds[kind(statement)] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield kinds
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements(engine: Engine, action: Callable[[], object]) -> Counter[str]:
    """The statements one call of `action` runs, after a warm-up call (caches filled)."""
    action()
    with counted(engine) as kinds:
        action()
    return kinds


def _breakdown(kinds: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in kinds.most_common()) or "none"


def _figure(name: str, baseline: str, secure: Counter[str], plain: Counter[str]) -> Result:
    return Result.compared(
        "statements",
        name,
        float(sum(secure.values())),
        "statements",
        baseline,
        float(sum(plain.values())),
        note=f"secure: {_breakdown(secure)}; twin: {_breakdown(plain)}",
        secure_kinds=dict(secure),
        twin_kinds=dict(plain),
    )


def _api_request(env: Env) -> tuple[Engine, Callable[[], object]]:
    """GET /api/v1/cases/<id>/records with a read token, through the real app (in-process)."""
    app = create_app(config_for(env.url, env.keys_dir))
    with env.platform.db.transaction() as s:
        user = s.scalar(select(User).where(User.username == CORRIDOR_USER))
        assert user is not None
        _, token = create_token(
            s, env.platform.access, user, f"stmt-{uuid.uuid4().hex[:6]}", "read", 1, by_system=True
        )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/cases/{env.case_id}/records?page_size=200"

    def get() -> object:
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code} from {path}")
        return response

    return app.extensions["shareplatform"].db.engine, get


def statement_counts(env: Env) -> list[Result]:
    engine = env.platform.db.engine
    page = statements(engine, lambda: secure_page(env, CORRIDOR_USER, env.case_id))
    twin_page = statements(engine, lambda: plain_page(env, CORRIDOR_USER, env.case_id))
    secure_write, plain_write = secure_writer(env), plain_writer(env)
    post = statements(engine, lambda: secure_write(1))
    insert = statements(engine, lambda: plain_write(1))
    api_engine, api_get = _api_request(env)
    api = statements(api_engine, api_get)
    return [
        _figure("case page, corridor user", "plaintext twin page", page, twin_page),
        _figure("post_record, one note", "plain ORM insert (record + attendee)", post, insert),
        _figure(
            "API GET /api/v1/cases/<id>/records, 200 records",
            "plaintext twin page (same records)",
            api,
            twin_page,
        ),
    ]
