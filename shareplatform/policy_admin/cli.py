"""`flask --app wsgi policy import|export`: the policy in its reviewable file form."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

from ..platform import Platform


def _platform() -> Platform:
    return current_app.extensions["shareplatform"]


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


policy_cli = AppGroup("policy", help="Access policy: import from and export to policies/.")


@policy_cli.command("import")
@click.argument(
    "path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--if-empty", is_flag=True, help="Only when the database holds no policy yet.")
def policy_import(path: Path | None, if_empty: bool) -> None:
    """Load the policy from policies/policy.csv (or PATH) into the database, as a new version."""
    click.echo(import_policy(path, if_empty))


def import_policy(path: Path | None, if_empty: bool) -> str:
    from ..access import policy_files, store
    from ..domain.errors import NotPermitted
    from .services import ImportRefused, record_import, record_import_refusal

    platform = _platform()
    source = path or policy_files.POLICY_PATH
    operator = _operator()
    try:
        rules = policy_files.read(source)
    except policy_files.PolicyFileError as exc:
        _fail(f"{source}: {exc}")
    try:
        with platform.transaction() as session:
            if if_empty and store.load_rules(session):
                return "policy already loaded; nothing to do"
            # a numbered policy version, audited with the operator; refused if it would lock
            # every administrator out or raises any two-person guardrail (services.record_import)
            version = record_import(
                session,
                platform.access,
                rules,
                str(source),
                operator=operator,
                max_users_lost=platform.config.POLICY_MAX_USERS_LOST,
            )
    except ImportRefused as exc:
        with platform.transaction() as session:
            record_import_refusal(session, platform.access, str(source), operator, exc)
        _fail(f"{source}: {exc.why}")
    except NotPermitted as exc:
        _fail(f"{source}: {exc}")
    return f"policy version {version}: {len(rules)} lines imported"


def _operator() -> str:
    """Who ran the command, as the operating system knows them (for the audit entry)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


@policy_cli.command("export")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def policy_export(path: Path | None) -> None:
    """Write the live policy in the policies/policy.csv format (to PATH, or standard output)."""
    from ..access import policy_files, store

    with _platform().transaction() as session:
        text = policy_files.render(store.load_rules(session))
    if path:
        path.write_text(text)
        click.echo(f"policy written to {path}", err=True)
    else:
        click.echo(text, nl=False)
