"""`attune pack register|list|show`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from attune.cli.action import ACTION_COLUMNS
from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.output import (
    Column,
    Format,
    emit,
    emit_fields,
    emit_page,
    emit_rows,
    output_option,
)

PACK_COLUMNS = [
    Column.key("REF", "ref"),
    Column.key("VERSION", "version"),
    Column.key("LABEL", "label"),
    Column.key("DESCRIPTION", "description"),
]


def show_pack(pack: dict[str, Any]) -> None:
    emit_fields([(name, pack.get(key)) for name, key in (
        ("Ref", "ref"), ("Label", "label"), ("Version", "version"),
        ("Description", "description"), ("Author", "author"), ("Email", "email"),
        ("Path", "path"), ("System", "system"), ("Enabled", "enabled"), ("Tags", "tags"),
        ("Updated", "updated"))
        if pack.get(key) not in (None, "", [])], title=f"Pack {pack.get('ref')}")
    actions = pack.get("actions")
    if isinstance(actions, list):
        emit_rows(actions, ACTION_COLUMNS, title="Actions")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def pack() -> None:
    """Packs: bundles of actions (and later sensors, rules, workflows)."""


@pack.command("register")
@click.argument("directory", metavar="DIR",
                type=click.Path(file_okay=False, path_type=Path))
@api_url_option
@output_option
def register(directory: Path, api_url: str | None, output: Format) -> None:
    """Register the pack in DIR (a directory with pack.yaml), or update it.

    The server reads DIR itself: it must be a path on the machine the API runs on
    (with `attune up`, this machine).
    """
    client = ApiClient.from_options(api_url)
    path = str(directory.expanduser().resolve())
    data = client.post("/api/v1/packs/register", {"path": path}).data
    actions = data.get("actions") or []
    emit(data, output, lambda: click.echo(
        f"Registered pack {data.get('ref')} {data.get('version', '')} from {path} "
        f"({len(actions)} action{'s' if len(actions) != 1 else ''})."))


@pack.command("list")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_packs(page: int, page_size: int, api_url: str | None, output: Format) -> None:
    """List the registered packs."""
    client = ApiClient.from_options(api_url)
    body = client.get("/api/v1/packs", query={
        "page": page, "page_size": page_size, "include_total": "true"}).body
    emit_page(body, output, PACK_COLUMNS)


@pack.command("show")
@click.argument("ref")
@api_url_option
@output_option
def show(ref: str, api_url: str | None, output: Format) -> None:
    """Show the pack REF with its actions."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/packs/{segment(ref)}").data
    emit(data, output, lambda: show_pack(data))
