"""The no-security baseline server: the case page from plaintext twin rows, no sign-in, no access
decisions, no audit, no crypto. `gunicorn benchmarks.plain_app:app` with BENCH_* variables set."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from flask import Flask

from shareplatform.platform import Platform

from .env import Env, config_for
from .page import plain_page


def make() -> Flask:
    url, keys = os.environ["DATABASE_URL"], Path(os.environ["SHAREPLATFORM_KEYS_DIR"])
    case_id = uuid.UUID(os.environ["BENCH_CASE_ID"])
    env = Env("plain", keys.parent, url, keys, Platform(config_for(url, keys)), case_id, 0)
    app = Flask(__name__)

    @app.get("/cases/<case_id>")
    def case(case_id: str) -> str:
        return plain_page(env, os.environ.get("BENCH_USER", "honsu.hughes"), uuid.UUID(case_id))

    return app


app = make() if "BENCH_CASE_ID" in os.environ else None
