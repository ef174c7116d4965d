"""`attune enforcement list|show`."""

from __future__ import annotations

from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option
from attune.cli.execution import short_time
from attune.cli.output import (
    Column,
    Format,
    emit,
    emit_fields,
    emit_page,
    output_option,
)

STATUSES = ("created", "processed", "disabled")

ENFORCEMENT_COLUMNS = [
    Column.key("ID", "id"),
    Column.key("RULE", "rule_ref"),
    Column.key("EVENT", "event_id"),
    Column.key("STATUS", "status"),
    Column.key("EXECUTION", "execution_id"),
    Column("CREATED", lambda e: short_time(e.get("created"))),
]


def show_enforcement(enforcement: dict[str, Any]) -> None:
    emit_fields([(name, enforcement.get(key)) for name, key in (
        ("Id", "id"), ("Rule", "rule_ref"), ("Trigger", "trigger_ref"), ("Event", "event_id"),
        ("Action", "action_ref"), ("Status", "status"), ("Execution", "execution_id"),
        ("Reason", "reason"), ("Parameters", "config"), ("Conditions", "conditions"),
        ("Condition", "condition"), ("Created", "created"), ("Resolved", "resolved_at"))
        if enforcement.get(key) not in (None, "", [], {})],
        title=f"Enforcement {enforcement.get('id')}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def enforcement() -> None:
    """Enforcements: a rule matched an event and requested (or could not request) an
    execution."""


@enforcement.command("list")
@click.option("--rule", "rule_ref", metavar="REF", help="Only enforcements of this rule.")
@click.option("--event", "event_id", type=click.IntRange(min=1), metavar="ID",
              help="Only enforcements of this event.")
@click.option("--status", type=click.Choice(STATUSES), help="Only in this status.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=20, show_default=True)
@api_url_option
@output_option
def list_enforcements(rule_ref: str | None, event_id: int | None, status: str | None,
                      page: int, page_size: int, api_url: str | None, output: Format) -> None:
    """List enforcements, newest first."""
    client = ApiClient.from_options(api_url)
    body = client.get("/api/v1/enforcements", query={
        "rule_ref": rule_ref, "event_id": event_id, "status": status, "page": page,
        "page_size": page_size, "include_total": "true"}).body
    emit_page(body, output, ENFORCEMENT_COLUMNS)


@enforcement.command("show")
@click.argument("enforcement_id", metavar="ID", type=click.IntRange(min=1))
@api_url_option
@output_option
def show(enforcement_id: int, api_url: str | None, output: Format) -> None:
    """Show one enforcement: rule, event, rendered parameters, execution."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/enforcements/{enforcement_id}").data
    emit(data, output, lambda: show_enforcement(data))
