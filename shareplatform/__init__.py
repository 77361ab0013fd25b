"""shareplatform: secure multi-agency information sharing for terrorist-offender management."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from .config import Config


def create_app(config: Config | Mapping[str, object] | None = None) -> Flask:
    """Build the application: configuration, the security kernel, blueprints, error handlers."""
    from . import cli, web
    from .platform import Platform

    if config is None:
        config = Config.from_env()
    elif isinstance(config, Mapping):
        base = Config.from_env()
        for key, value in config.items():
            setattr(base, key, value) if hasattr(base, key) else base.extra.__setitem__(key, value)
        config = base
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(config.as_flask())
    app.extensions["shareplatform"] = Platform(config)
    cli.init_app(app)  # the platform's own commands, which features may extend
    web.init_app(app)  # the web layer, then every feature
    return app
