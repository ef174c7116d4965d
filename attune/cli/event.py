"""`attune event list|show|create`."""

from __future__ import annotations

from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option
from attune.cli.documents import json_option
from attune.cli.execution import short_time
from attune.cli.output import (
    Column,
    Format,
    compact,
    emit,
    emit_fields,
    emit_page,
    output_option,
)

SOURCES = ("api", "webhook", "sensor", "timer")
PAYLOAD_WIDTH = 60

EVENT_COLUMNS = [
    Column.key("ID", "id"),
    Column.key("TRIGGER", "trigger_ref"),
    Column.key("SOURCE", "source"),
    Column("CREATED", lambda e: short_time(e.get("created"))),
    Column("PAYLOAD", lambda e: compact(e.get("payload"))[:PAYLOAD_WIDTH]),
]


def show_event(event: dict[str, Any]) -> None:
    emit_fields([(name, event.get(key)) for name, key in (
        ("Id", "id"), ("Trigger", "trigger_ref"), ("Source", "source"),
        ("Source ref", "source_ref"), ("Rule", "rule_ref"),
        ("Instance id", "trigger_instance_id"), ("Created", "created"),
        ("Payload", "payload"), ("Metadata", "metadata"))
        if event.get(key) not in (None, "", {})], title=f"Event {event.get('id')}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def event() -> None:
    """Events: things that happened, of a trigger's type; rules react to them."""


@event.command("list")
@click.option("--trigger", "trigger_ref", metavar="REF", help="Only events of this trigger.")
@click.option("--source", type=click.Choice(SOURCES), help="Only events from this source.")
@click.option("--rule", "rule_ref", metavar="REF", help="Only events meant for this rule.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=20, show_default=True)
@api_url_option
@output_option
def list_events(trigger_ref: str | None, source: str | None, rule_ref: str | None, page: int,
                page_size: int, api_url: str | None, output: Format) -> None:
    """List events, newest first."""
    client = ApiClient.from_options(api_url)
    body = client.get("/api/v1/events", query={
        "trigger_ref": trigger_ref, "source": source, "rule_ref": rule_ref, "page": page,
        "page_size": page_size, "include_total": "true"}).body
    emit_page(body, output, EVENT_COLUMNS)


@event.command("show")
@click.argument("event_id", metavar="ID", type=click.IntRange(min=1))
@api_url_option
@output_option
def show(event_id: int, api_url: str | None, output: Format) -> None:
    """Show one event with its payload and metadata."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/events/{event_id}").data
    emit(data, output, lambda: show_event(data))


@event.command("create")
@click.argument("trigger_ref", metavar="TRIGGER_REF")
@click.option("--payload", metavar="JSON", default="{}", show_default=True,
              help="The event's payload: a JSON object (checked against the trigger's "
                   "out_schema).")
@click.option("--instance-id", "trigger_instance_id", metavar="ID",
              help="Your id of this occurrence: creating it again returns the same event.")
@api_url_option
@output_option
def create(trigger_ref: str, payload: str, trigger_instance_id: str | None,
           api_url: str | None, output: Format) -> None:
    """Emit an event of TRIGGER_REF; enabled rules of the trigger react to it."""
    body: dict[str, Any] = {"trigger_ref": trigger_ref,
                            "payload": json_option(payload, "--payload")}
    if trigger_instance_id:
        body["trigger_instance_id"] = trigger_instance_id
    client = ApiClient.from_options(api_url)
    data = client.post("/api/v1/events", body).data
    emit(data, output, lambda: click.echo(f"Event {data.get('id')} created ({trigger_ref})."))
