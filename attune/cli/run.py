"""`attune run ACTION_REF key=value ... [--watch]`: request an execution and, with
--watch, follow it to its end and print what the action wrote."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from attune.cli.client import ApiClient, Response, api_url_option, segment
from attune.cli.coerce import build_parameters
from attune.cli.execution import TERMINAL, duration
from attune.cli.output import CliError, Format, console, emit, output_option

#: polling backs off from the first to the last interval (seconds)
_POLL_FIRST, _POLL_LAST = 0.05, 0.5


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("action_ref", metavar="ACTION_REF")
@click.argument("params", nargs=-1, metavar="[NAME=VALUE]...")
@click.option("--params-json", metavar="JSON",
              help="Parameters as one JSON object; NAME=VALUE arguments override it.")
@click.option("--timeout", "timeout_seconds", type=click.IntRange(min=1), metavar="SECONDS",
              help="Time limit of the execution: the worker stops the action after it "
                   "(default: the action's own, else the server's).")
@click.option("-w", "--watch", is_flag=True,
              help="Follow the execution: show each status change, then its output; "
                   "exit 1 unless it completed.")
@api_url_option
@output_option
def run(action_ref: str, params: tuple[str, ...], params_json: str | None,
        timeout_seconds: int | None, watch: bool, api_url: str | None,
        output: Format) -> None:
    """Run the action ACTION_REF (e.g. core.echo) with parameters NAME=VALUE.

    \b
    Values take the type of the action's parameter: numbers, true/false, and JSON
    for arrays and objects, e.g.
      attune run core.echo message=hi --watch
      attune run mypack.deploy hosts='["a","b"]' dry_run=true
    """
    client = ApiClient.from_options(api_url)
    action = client.get(f"/api/v1/actions/{segment(action_ref)}").data
    schema = (action.get("parameters") or {}) if isinstance(action, dict) else {}
    parameters = build_parameters(params, params_json, schema)
    body: dict[str, Any] = {"action_ref": action_ref, "parameters": parameters}
    if timeout_seconds is not None:
        body["timeout_seconds"] = timeout_seconds
    created = client.post("/api/v1/executions/execute", body)
    execution: dict[str, Any] = created.data
    if not watch:
        emit(execution, output, lambda: click.echo(
            f"Execution {execution['id']} requested ({action_ref}). Follow it with "
            f"`attune execution get {execution['id']}`."))
        return
    try:
        final = _follow(client, created, quiet=output != "table")
    except KeyboardInterrupt:
        click.echo(f"\nStopped watching; execution {execution['id']} goes on "
                   f"(`attune execution get {execution['id']}`).", err=True)
        sys.exit(130)
    emit(final, output, lambda: _print_outcome(final))
    if final.get("status") != "completed":
        sys.exit(1)


def _follow(client: ApiClient, created: Response, *, quiet: bool) -> dict[str, Any]:
    """Poll until the execution ends, printing each status seen (to stderr when
    the result itself goes to stdout as JSON/YAML)."""
    execution: dict[str, Any] = created.data
    execution_id = execution["id"]
    # reads wait until the projections have applied our request
    after = created.sequence
    out = console(err=quiet)
    out.print(f"Execution {execution_id} ({execution.get('action_ref')})", markup=False)
    start = time.monotonic()
    seen: str | None = None
    interval = _POLL_FIRST
    while True:
        status = str(execution.get("status"))
        if status != seen:
            line = f"  {time.monotonic() - start:7.3f} s  {status}"
            if status in TERMINAL:
                line += _outcome_summary(execution)
            out.print(line, markup=False)
            seen = status
        if status in TERMINAL:
            return execution
        time.sleep(interval)
        interval = min(interval * 1.5, _POLL_LAST)
        try:
            execution = client.get(f"/api/v1/executions/{execution_id}",
                                   after_sequence=after).data
        except CliError as exc:
            if exc.status != 503:
                raise
            # the read model is behind (projector busy or restarting): ask again



def _outcome_summary(execution: dict[str, Any]) -> str:
    result: dict[str, Any] = execution.get("result") or {}
    parts = []
    if result.get("exit_code") is not None:
        parts.append(f"exit code {result['exit_code']}")
    if duration(execution):
        parts.append(duration(execution))
    if result.get("error"):
        parts.append(str(result["error"]))
    return f" ({', '.join(parts)})" if parts else ""


def _print_outcome(execution: dict[str, Any]) -> None:
    """What the action wrote: stdout on stdout; stderr too when it did not complete."""
    result: dict[str, Any] = execution.get("result") or {}
    stdout, stderr = result.get("stdout") or "", result.get("stderr") or ""
    if stdout:
        click.echo(stdout, nl=not stdout.endswith("\n"))
    if stderr and execution.get("status") != "completed":
        click.echo(stderr, nl=not stderr.endswith("\n"), err=True)
