"""`attune schemas export [--check]`: JSON Schemas of events and API bodies in `schemas/`."""

from __future__ import annotations

from pathlib import Path

import click

from attune.paths import schemas_dir


@click.group()
def schemas() -> None:
    """JSON Schemas of every event and API body, generated from the models."""


@schemas.command("export")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 listing stale, missing and extra files.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Output folder (default: schemas/ of the checkout).")
def export_command(check: bool, directory: Path | None) -> None:
    """Write schemas/events/<type>.json and schemas/api/<Model>.json."""
    from attune import schemas_export

    target = directory or schemas_dir()
    if check:
        drift = schemas_export.check(target)
        if drift.clean:
            click.echo(f"{target} is up to date")
            return
        for line in drift.lines():
            click.echo(line)
        click.echo(f"{target} is out of date: run `attune schemas export`", err=True)
        raise SystemExit(1)
    drift = schemas_export.export(target)
    for label, paths in (("updated", drift.stale), ("written", drift.missing),
                         ("removed", drift.extra)):
        for path in paths:
            click.echo(f"{label}: {path}")
    click.echo(f"{target} is up to date")
