"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from shareplatform import create_app

app = create_app()
