"""`attune trigger list|show|create|enable|disable|delete`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from attune.cli.action import PARAMETER_COLUMNS
from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.components import add_lifecycle
from attune.cli.documents import json_option, load_document
from attune.cli.output import (
    Column,
    Format,
    emit,
    emit_fields,
    emit_page,
    emit_rows,
    output_option,
)

TRIGGER_COLUMNS = [
    Column.key("REF", "ref"),
    Column.key("ENABLED", "enabled"),
    Column("WEBHOOK", lambda t: "on" if (t.get("webhook") or {}).get("enabled") else ""),
    Column.key("SOURCE", "source"),
    Column.key("DESCRIPTION", "description"),
]


def schema_rows(schema: Any) -> list[dict[str, Any]]:
    if not isinstance(schema, dict):
        return []
    return [{"name": name, **spec} for name, spec in schema.items() if isinstance(spec, dict)]


def webhook_fields(webhook: dict[str, Any], api_url: str) -> list[tuple[str, Any]]:
    security = webhook.get("security") or {}
    url = webhook.get("url")
    fields: list[tuple[str, Any]] = [
        ("Webhook", "enabled" if webhook.get("enabled") else "disabled"),
        ("Webhook URL", api_url + url if url else None),
        ("HMAC", security.get("hmac_algorithm")),
        ("Rate limit", f"{security['rate_limit_per_minute']} per minute"
         if security.get("rate_limit_per_minute") else None),
        ("Max payload", f"{security.get('max_payload_bytes')} bytes"),
        ("IP allow-list", security.get("ip_allowlist") or None),
    ]
    return [(name, value) for name, value in fields if value not in (None, "", [])]


def show_trigger(trigger: dict[str, Any], api_url: str) -> None:
    fields = [(name, trigger.get(key)) for name, key in (
        ("Ref", "ref"), ("Pack", "pack_ref"), ("Label", "label"),
        ("Description", "description"), ("Enabled", "enabled"), ("Source", "source"),
        ("Tags", "tags"), ("Updated", "updated"))
        if trigger.get(key) not in (None, "", [])]
    fields += webhook_fields(trigger.get("webhook") or {}, api_url)
    emit_fields(fields, title=f"Trigger {trigger.get('ref')}")
    for title, key in (("Parameters (from rules)", "param_schema"),
                       ("Payload (out_schema)", "out_schema")):
        rows = schema_rows(trigger.get(key))
        if rows:
            emit_rows(rows, PARAMETER_COLUMNS, title=title)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def trigger() -> None:
    """Triggers: the kinds of events rules react to (timers, webhooks, sensors...)."""


@trigger.command("list")
@click.option("--pack", "pack_ref", metavar="REF", help="Only triggers of this pack.")
@click.option("-q", "--query", "q", metavar="WORDS",
              help="Words that must all appear in ref, label, description or pack.")
@click.option("--enabled/--disabled", "enabled", default=None,
              help="Only enabled (or only disabled) triggers.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_triggers(pack_ref: str | None, q: str | None, enabled: bool | None, page: int,
                  page_size: int, api_url: str | None, output: Format) -> None:
    """List triggers."""
    client = ApiClient.from_options(api_url)
    body = client.get("/api/v1/triggers", query={
        "pack_ref": pack_ref, "q": q, "enabled": enabled,
        "page": page, "page_size": page_size, "include_total": "true"}).body
    emit_page(body, output, TRIGGER_COLUMNS)


@trigger.command("show")
@click.argument("ref")
@api_url_option
@output_option
def show(ref: str, api_url: str | None, output: Format) -> None:
    """Show the trigger REF: schemas and webhook."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/triggers/{segment(ref)}").data
    emit(data, output, lambda: show_trigger(data, client.api_url))


@trigger.command("create")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--ref", metavar="PACK.NAME", help="The new trigger's ref (the pack must exist).")
@click.option("--label", help="A short title.")
@click.option("--description", help="What its events mean.")
@click.option("--param-schema", metavar="JSON",
              help="Parameters rules give it, e.g. '{\"env\": {\"type\": \"string\"}}'.")
@click.option("--out-schema", metavar="JSON",
              help="Its payload's fields, e.g. '{\"service\": {\"type\": \"string\", "
                   "\"required\": true}}'.")
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@api_url_option
@output_option
def create(file: Path | None, ref: str | None, label: str | None, description: str | None,
           param_schema: str | None, out_schema: str | None, disabled: bool,
           api_url: str | None, output: Format) -> None:
    """Create a trigger from FILE (YAML or JSON, the API's fields) and/or options.

    \b
    Options override the file's fields, e.g.
      attune trigger create --ref mypack.deployed --out-schema '{"service": {"type": "string"}}'
    """
    body: dict[str, Any] = load_document(file) if file else {}
    for key, value in (("ref", ref), ("label", label), ("description", description),
                       ("param_schema", json_option(param_schema, "--param-schema")),
                       ("out_schema", json_option(out_schema, "--out-schema"))):
        if value is not None:
            body[key] = value
    if disabled:
        body["enabled"] = False
    if "ref" not in body:
        raise click.UsageError("give the trigger's ref: --ref PACK.NAME (or `ref:` in FILE)")
    client = ApiClient.from_options(api_url)
    data = client.post("/api/v1/triggers", body).data
    emit(data, output, lambda: click.echo(f"Trigger {data.get('ref')} created."))


add_lifecycle(trigger, noun="trigger", collection="triggers",
              enable="Enable the trigger REF.",
              disable="Disable the trigger REF: its events are refused until it is enabled again.",
              delete="Delete the trigger REF (one created through the API, used by no rule).")
