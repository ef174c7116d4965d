"""`attune action list|show`."""

from __future__ import annotations

from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.output import (
    Column,
    Format,
    compact,
    emit,
    emit_fields,
    emit_page,
    emit_rows,
    output_option,
)

ACTION_COLUMNS = [
    Column.key("REF", "ref"),
    Column.key("RUNTIME", "runtime"),
    Column.key("DESCRIPTION", "description"),
]

PARAMETER_COLUMNS = [
    Column.key("NAME", "name"),
    Column.key("TYPE", "type"),
    Column("REQUIRED", lambda p: "yes" if p.get("required") else ""),
    Column("DEFAULT", lambda p: None if p.get("default") is None else compact(p["default"])),
    Column("SECRET", lambda p: "yes" if p.get("secret") else ""),
    Column("ALLOWED", lambda p: p.get("enum")),
    Column.key("DESCRIPTION", "description"),
]


def show_action(action: dict[str, Any]) -> None:
    emit_fields([(name, action.get(key)) for name, key in (
        ("Ref", "ref"), ("Pack", "pack_ref"), ("Label", "label"),
        ("Description", "description"), ("Runtime", "runtime"),
        ("Entry point", "entry_point"), ("Timeout", "timeout_seconds"),
        ("Enabled", "enabled"), ("Tags", "tags"))
        if action.get(key) not in (None, "", [])], title=f"Action {action.get('ref')}")
    parameters = action.get("parameters") or {}
    rows = [{"name": name, **spec} for name, spec in parameters.items()
            if isinstance(spec, dict)]
    emit_rows(rows, PARAMETER_COLUMNS, title="Parameters")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def action() -> None:
    """Actions: what executions run, with their parameter schemas."""


@action.command("list")
@click.option("--pack", "pack_ref", metavar="REF", help="Only actions of this pack.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_actions(pack_ref: str | None, page: int, page_size: int, api_url: str | None,
                 output: Format) -> None:
    """List actions."""
    client = ApiClient.from_options(api_url)
    body = client.get("/api/v1/actions", query={
        "pack_ref": pack_ref, "page": page, "page_size": page_size,
        "include_total": "true"}).body
    emit_page(body, output, ACTION_COLUMNS)


@action.command("show")
@click.argument("ref")
@api_url_option
@output_option
def show(ref: str, api_url: str | None, output: Format) -> None:
    """Show the action REF and its parameters."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/actions/{segment(ref)}").data
    emit(data, output, lambda: show_action(data))
