"""`flask --app wsgi audit verify-export FILE`: check an inspection export offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("verify-export")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_export_command(path: Path) -> None:
    """Check a MAPPA inspection export: hashes, Ed25519 signatures (embedded key), checkpoints."""
    from .exports import verify_export

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        click.echo(f"Error: {path}: not a readable JSON export ({exc})", err=True)
        sys.exit(1)
    result = verify_export(data)
    for line in result.lines:
        click.echo(line)
    if not result.ok:
        click.echo(f"Error: {path}: the export does NOT verify", err=True)
        sys.exit(1)
    click.echo(f"{path}: every decision verifies")
