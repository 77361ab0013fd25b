"""Users and their accounts: sign-in with a second factor, sessions, personal API tokens, and
user administration."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def register(app: Flask) -> None:
    """Pages, API, commands and navigation of this feature."""
    from ..access.vocabulary import Permission
    from ..web.api import register_api
    from ..web.request import set_identity
    from ..web.shell import add_nav
    from . import admin_views, api, cli, identity, token_views, views, webauthn_views

    set_identity(app, identity.AccountsIdentity())  # how each request is identified
    app.context_processor(lambda: {"current_user": identity.current_user()})

    app.register_blueprint(views.bp)
    app.register_blueprint(token_views.bp)
    app.register_blueprint(webauthn_views.bp)
    app.register_blueprint(admin_views.bp)
    register_api(app, api.account)
    app.cli.add_command(cli.tokens_cli)
    app.cli.add_command(cli.users_cli)
    add_nav(app, "Users", "users.users", Permission.USER_MANAGE, order=50)
    add_nav(app, "Approvals", "users.approvals_page", Permission.USER_MANAGE, order=51)
