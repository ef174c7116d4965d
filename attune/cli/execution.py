"""`attune execution list|get|cancel|rerun|logs`, and how an execution is shown (also by
`attune run`)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.coerce import build_parameters
from attune.cli.output import (
    Column,
    Format,
    emit,
    emit_fields,
    emit_page,
    output_option,
)

STATUSES = ("requested", "scheduling", "scheduled", "running", "completed", "failed",
            "canceling", "cancelled", "timeout", "abandoned")
TERMINAL = frozenset({"completed", "failed", "cancelled", "timeout", "abandoned"})


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def duration(execution: dict[str, Any]) -> str:
    """How long it ran: the worker's measure, else finish - start."""
    result = execution.get("result")
    if isinstance(result, dict) and isinstance(result.get("duration_ms"), int):
        return f"{result['duration_ms'] / 1000:.3f} s"
    started = _parse_time(execution.get("started_at"))
    finished = _parse_time(execution.get("finished_at"))
    if started and finished:
        return f"{(finished - started).total_seconds():.3f} s"
    return ""


def short_time(value: Any) -> str:
    moment = _parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


COLUMNS = [
    Column.key("ID", "id"),
    Column.key("ACTION", "action_ref"),
    Column.key("STATUS", "status"),
    Column("CREATED", lambda e: short_time(e.get("created"))),
    Column("DURATION", duration),
    Column("EXIT", lambda e: (e.get("result") or {}).get("exit_code")),
]


def show_execution(execution: dict[str, Any]) -> None:
    result: dict[str, Any] = execution.get("result") or {}
    fields: list[tuple[str, Any]] = [
        ("Id", execution.get("id")),
        ("Action", execution.get("action_ref")),
        ("Status", execution.get("status")),
        ("Waiting", execution.get("waiting_reason")),
        ("Parameters", execution.get("parameters")),
        ("Worker", execution.get("worker")),
        ("Created", execution.get("created")),
        ("Started", execution.get("started_at")),
        ("Finished", execution.get("finished_at")),
        ("Duration", duration(execution)),
    ]
    if result:
        fields += [("Exit code", result.get("exit_code")), ("Error", result.get("error")),
                   ("Stdout", (result.get("stdout") or "").rstrip("\n")),
                   ("Stderr", (result.get("stderr") or "").rstrip("\n"))]
        if result.get("data") is not None:
            fields.append(("Data", result.get("data")))
    emit_fields([(name, value) for name, value in fields if value not in (None, "")],
                title=f"Execution {execution.get('id')}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def execution() -> None:
    """Executions: runs of actions, with their status and result."""


@execution.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only executions in this status.")
@click.option("--action", "action_ref", metavar="REF", help="Only runs of this action.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=20, show_default=True)
@api_url_option
@output_option
def list_executions(status: str | None, action_ref: str | None, page: int, page_size: int,
                    api_url: str | None, output: Format) -> None:
    """List executions, newest first."""
    client = ApiClient.from_options(api_url)
    body = client.get("/api/v1/executions", query={
        "status": status, "action_ref": action_ref, "page": page, "page_size": page_size,
        "include_total": "true"}).body
    emit_page(body, output, COLUMNS)


@execution.command("get")
@click.argument("execution_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--tree", is_flag=True,
              help="Show the execution with its descendants (a workflow's tasks, nested "
                   "workflows' own) with statuses and durations.")
@api_url_option
@output_option
def get_execution(execution_id: int, tree: bool, api_url: str | None,
                  output: Format) -> None:
    """Show one execution with its parameters and result."""
    client = ApiClient.from_options(api_url)
    if tree:  # hook: attune/cli/workflow.py draws it
        from attune.cli.workflow import show_tree

        nodes = client.get(f"/api/v1/executions/{execution_id}/tree").data
        emit(nodes, output, lambda: show_tree(nodes))
        return
    data = client.get(f"/api/v1/executions/{execution_id}").data
    emit(data, output, lambda: show_execution(data))


@execution.command("cancel")
@click.argument("execution_id", metavar="ID", type=click.IntRange(min=1))
@api_url_option
@output_option
def cancel_execution(execution_id: int, api_url: str | None, output: Format) -> None:
    """Cancel an execution: at once if no worker has it yet, else its worker stops it."""
    client = ApiClient.from_options(api_url)
    data = client.post(f"/api/v1/executions/{execution_id}/cancel", None).data
    emit(data, output, lambda: click.echo(
        f"Execution {execution_id}: {data.get('status', 'canceling')}"))


@execution.command("rerun")
@click.argument("execution_id", metavar="ID", type=click.IntRange(min=1))
@click.argument("params", nargs=-1, metavar="[NAME=VALUE]...")
@click.option("--params-json", metavar="JSON", help="Parameters to change, as one JSON object.")
@api_url_option
@output_option
def rerun_execution(execution_id: int, params: tuple[str, ...], params_json: str | None,
                    api_url: str | None, output: Format) -> None:
    """Run an execution's action again with the same parameters; NAME=VALUE changes some."""
    client = ApiClient.from_options(api_url)
    original = client.get(f"/api/v1/executions/{execution_id}").data
    action = client.get(f"/api/v1/actions/{segment(original['action_ref'])}").data
    schema = (action.get("parameters") or {}) if isinstance(action, dict) else {}
    overrides = build_parameters(params, params_json, schema)
    data = client.post(f"/api/v1/executions/{execution_id}/rerun",
                       {"parameters": overrides}).data
    emit(data, output, lambda: click.echo(
        f"Execution {data['id']} requested (re-run of {execution_id}). Follow it with "
        f"`attune execution get {data['id']}`."))


#: How often `logs --follow` asks for more output.
FOLLOW_INTERVAL = 0.5


@execution.command("logs")
@click.argument("execution_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--stderr", "stream", flag_value="stderr", help="Show stderr instead of stdout.")
@click.option("--stdout", "stream", flag_value="stdout", default=True, hidden=True)
@click.option("--follow", "-f", is_flag=True,
              help="Keep printing output as it comes, until the execution has ended.")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
              help="Start at this byte of the output.")
@api_url_option
def execution_logs(execution_id: int, stream: str, follow: bool, offset: int,
                   api_url: str | None) -> None:
    """Print an execution's output (stdout, or stderr with --stderr), also while it runs."""
    client = ApiClient.from_options(api_url)
    path = f"/api/v1/executions/{execution_id}/logs/{stream}"
    try:
        while True:
            data = client.get(path, query={"offset": offset}).data
            if data["content"]:
                click.echo(data["content"], nl=False)
            offset = data["next_offset"]
            if not follow or data["complete"]:
                break
            time.sleep(FOLLOW_INTERVAL)
    except KeyboardInterrupt:
        click.echo(f"\nStopped following; execution {execution_id} goes on.", err=True)
        return
    if data.get("truncated"):
        click.echo(f"[output truncated: the action wrote {data.get('written')} bytes, more "
                   "than the per-stream cap]", err=True)
