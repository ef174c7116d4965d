"""`attune audit list|show|request`: the audit trail (needs audit_log:read)."""

from __future__ import annotations

from typing import Any

import click

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

AUDIT_COLUMNS = [
    Column.key("ID", "id"),
    Column.key("AT", "at"),
    Column.key("KIND", "kind"),
    Column.key("ACTOR", "actor"),
    Column.key("TOKEN", "token_type"),
    Column.key("WHAT", "event_type"),
    Column.key("REF", "resource_ref"),
    Column.key("OUTCOME", "outcome"),
    Column.key("STATUS", "status"),
    Column.key("REQUEST", "request_id"),
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def audit() -> None:
    """The audit trail: every API request and every domain change, with who, which
    token, what, the outcome and the request id (never secret values)."""


@audit.command("list")
@click.option("--kind", type=click.Choice(["request", "change"]), help="Only requests or "
              "only changes.")
@click.option("--actor", metavar="LOGIN", help="Only what this identity did.")
@click.option("--category", metavar="RESOURCE", help="Only this resource (rules, keys...).")
@click.option("--outcome", type=click.Choice(["success", "denied", "failure", "error"]))
@click.option("--ref", "resource_ref", metavar="REF", help="Only about this ref or id.")
@click.option("--request-id", metavar="ID", help="Only this request and its changes.")
@click.option("--since", metavar="TIME", help="At or after (ISO 8601).")
@click.option("--until", metavar="TIME", help="Before (ISO 8601).")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_events(kind: str | None, actor: str | None, category: str | None,
                outcome: str | None, resource_ref: str | None, request_id: str | None,
                since: str | None, until: str | None, page: int, page_size: int,
                api_url: str | None, output: Format) -> None:
    """List audit events, newest first."""
    body = ApiClient.from_options(api_url).get("/api/v1/audit-events", query={
        "kind": kind, "actor": actor, "category": category, "outcome": outcome,
        "resource_ref": resource_ref, "request_id": request_id, "since": since,
        "until": until, "page": page, "page_size": page_size}).body
    emit_page(body, output, AUDIT_COLUMNS)


@audit.command("show")
@click.argument("event_id", type=click.IntRange(min=1))
@api_url_option
@output_option
def show(event_id: int, api_url: str | None, output: Format) -> None:
    """Show one audit event."""
    data: dict[str, Any] = ApiClient.from_options(api_url).get(
        f"/api/v1/audit-events/{event_id}").data
    emit(data, output, lambda: emit_fields(list(data.items()),
                                           title=f"Audit event {event_id}"))


@audit.command("request")
@click.argument("request_id")
@api_url_option
@output_option
def request(request_id: str, api_url: str | None, output: Format) -> None:
    """A request (its X-Request-Id) and every change that followed from it."""
    body = ApiClient.from_options(api_url).get(
        f"/api/v1/audit-events/by-request/{segment(request_id)}").body
    emit(body, output, lambda: emit_rows(body.get("items", []), AUDIT_COLUMNS,
                                         title=f"Request {request_id}"))


audit.add_command(request, "chain")  # the original CLI's name for it
