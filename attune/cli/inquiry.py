"""`attune inquiry list|show|respond|cancel`: questions to humans that executions (often
workflow tasks, through core.ask) wait on."""

from __future__ import annotations

import json
from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option
from attune.cli.coerce import build_parameters
from attune.cli.output import Column, Format, emit, emit_fields, emit_page, output_option

STATUSES = ("pending", "responded", "timeout", "cancelled")
COLUMNS = [
    Column.key("ID", "id"),
    Column.key("STATUS", "status"),
    Column.key("PROMPT", "prompt"),
    Column.key("ASSIGNED", "assigned_to"),
    Column.key("EXECUTION", "execution_id"),
    Column.key("WORKFLOW", "workflow_execution_id"),
    Column.key("TIMEOUT AT", "timeout_at"),
]


def show_inquiry(data: dict[str, Any]) -> None:
    emit_fields([(name, value) for name, value in [
        ("Id", data["id"]), ("Status", data["status"]), ("Prompt", data["prompt"]),
        ("Response schema", data["response_schema"]), ("Assigned to", data["assigned_to"]),
        ("Execution", data["execution_id"]), ("Workflow", data["workflow_execution_id"]),
        ("Times out", data["timeout_at"]), ("Response", data["response"]),
        ("Responded by", data["responded_by"])] if value not in (None, "")],
        title=f"Inquiry {data['id']}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def inquiry() -> None:
    """Inquiries: answer the questions executions wait on."""


@inquiry.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only inquiries in this status.")
@click.option("--assigned-to", metavar="LOGIN", help="Only those assigned to this login.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@api_url_option
@output_option
def list_inquiries(status: str | None, assigned_to: str | None, page: int,
                   api_url: str | None, output: Format) -> None:
    """List inquiries, newest first."""
    client = ApiClient.from_options(api_url)
    emit_page(client.get("/api/v1/inquiries", query={
        "status": status, "assigned_to": assigned_to, "page": page,
        "include_total": "true"}).body, output, COLUMNS)


@inquiry.command("show")
@click.argument("inquiry_id", metavar="ID", type=click.IntRange(min=1))
@api_url_option
@output_option
def show(inquiry_id: int, api_url: str | None, output: Format) -> None:
    """Show an inquiry with its prompt and response schema."""
    data = ApiClient.from_options(api_url).get(f"/api/v1/inquiries/{inquiry_id}").data
    emit(data, output, lambda: show_inquiry(data))


@inquiry.command("respond")
@click.argument("inquiry_id", metavar="ID", type=click.IntRange(min=1))
@click.argument("fields", nargs=-1, metavar="[NAME=VALUE]...")
@click.option("--response-json", metavar="JSON", help="The whole response as a JSON object.")
@api_url_option
@output_option
def respond(inquiry_id: int, fields: tuple[str, ...], response_json: str | None,
            api_url: str | None, output: Format) -> None:
    """Answer an inquiry: NAME=VALUE pairs typed by its response schema (e.g.
    approved=true), or --response-json."""
    client = ApiClient.from_options(api_url)
    asked = client.get(f"/api/v1/inquiries/{inquiry_id}").data
    response = build_parameters(fields, response_json, asked.get("response_schema") or {})
    data = client.post(f"/api/v1/inquiries/{inquiry_id}/respond", {"response": response}).data
    emit(data, output, lambda: click.echo(
        f"Inquiry {inquiry_id} answered: {json.dumps(data['response'])}"))


@inquiry.command("cancel")
@click.argument("inquiry_id", metavar="ID", type=click.IntRange(min=1))
@api_url_option
@output_option
def cancel(inquiry_id: int, api_url: str | None, output: Format) -> None:
    """Cancel a pending inquiry (and the execution waiting on it)."""
    data = ApiClient.from_options(api_url).post(
        f"/api/v1/inquiries/{inquiry_id}/cancel", None).data
    emit(data, output, lambda: click.echo(f"Inquiry {inquiry_id}: {data['status']}"))
