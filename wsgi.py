"""WSGI entry point: `gunicorn wsgi:app` (settings in gunicorn.conf.py), `flask --app wsgi ...`."""

from shareplatform import create_app
from shareplatform.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # one clear line naming the setting, not a traceback
    raise SystemExit(f"shareplatform will not start: {exc}") from None
