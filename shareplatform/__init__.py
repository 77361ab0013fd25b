"""shareplatform: secure multi-agency information sharing for terrorist-offender management."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from .config import Config


def create_app(config: Config | Mapping[str, object] | None = None) -> Flask:
    """Build the application: configuration, the security kernel, blueprints, error handlers."""
    from . import cli, observability, web
    from .platform import Platform

    if config is None:
        config = Config.from_env()
    elif isinstance(config, Mapping):
        base = Config.from_env()
        for key, value in config.items():
            setattr(base, key, value) if hasattr(base, key) else base.extra.__setitem__(key, value)
        config = base
    config.validate()  # fail fast, naming the setting, before anything opens
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(config.as_flask())
    app.extensions["shareplatform"] = Platform(config)
    cli.init_app(app)  # the platform's own commands, which features may extend
    web.init_app(app)  # the web layer, then every feature
    observability.init_app(app)  # health, logs, metrics: hooks around every other one
    trust_proxies(app, config.PROXY_HOPS)
    return app


def trust_proxies(app: Flask, hops: int) -> None:
    """Behind `hops` reverse proxies, take the client's address, scheme and host from their
    X-Forwarded-* headers (sign-in throttles, HSTS and Secure cookies depend on them); with no
    proxy the headers are ignored, since any client could send them."""
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
