"""`flask --app wsgi import nominals|records FILE [--dry-run]`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .common import CHUNK, ImportInterrupted, ImportReport, yield_cpu_to_requests

import_cli = AppGroup(
    "import",
    help="Import nominals and records from ViSOR / nDelius / NOMIS extracts (CSV or JSON).",
)

_file = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
_dry = click.option(
    "--dry-run", is_flag=True, help="Validate and report (row, field, problem); write nothing."
)
_fmt = click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default=None,
    help="Default: from the file's extension (.json, otherwise CSV).",
)
_chunk = click.option(
    "--chunk",
    type=click.IntRange(1, 100_000),
    default=CHUNK,
    show_default=True,
    help="Rows written per transaction: smaller chunks let other users' writes in sooner.",
)


def _progress(done: int, total: int) -> None:
    click.echo(f"  written {done}/{total}", err=True)


def _finish(run: Callable[[], ImportReport]) -> None:
    if not current_app.testing:  # in-process test runs keep the test process's priority
        yield_cpu_to_requests()
    try:
        report = run()
    except ImportInterrupted as exc:  # earlier chunks stay written; a re-run writes the rest
        click.echo(exc.report.summary())
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(report.summary())
    if report.problems:
        sys.exit(1)


@import_cli.command("nominals")
@_file
@_dry
@_fmt
@_chunk
def import_nominals_cmd(file: Path, dry_run: bool, fmt: str | None, chunk: int) -> None:
    """Nominals and the case each is managed under; matched on identifiers (blind index)."""
    from .nominals import import_nominals

    platform = current_app.extensions["shareplatform"]
    _finish(
        lambda: import_nominals(
            platform, file, fmt=fmt, dry_run=dry_run, progress=_progress, chunk=chunk
        )
    )


@import_cli.command("records")
@_file
@_dry
@_fmt
@_chunk
@click.option(
    "--author",
    required=True,
    help="Username accountable for the import (author where a row names none).",
)
def import_records_cmd(file: Path, dry_run: bool, fmt: str | None, chunk: int, author: str) -> None:
    """Records, each with its label; matched on the source system's id (re-import: no change)."""
    from .records import import_records

    platform = current_app.extensions["shareplatform"]
    _finish(
        lambda: import_records(
            platform,
            file,
            author=author,
            fmt=fmt,
            dry_run=dry_run,
            progress=_progress,
            chunk=chunk,
        )
    )
