"""`attune worker list|cordon|uncordon`: who runs actions, and taking one out of rotation."""

from __future__ import annotations

from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.output import Column, Format, emit, emit_rows, output_option


def _runtimes(worker: dict[str, Any]) -> str:
    return ", ".join(f"{name} {version}" if version else name
                     for name, version in (worker.get("runtimes") or {}).items())


def _labels(worker: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((worker.get("labels") or {}).items()))


def _state(worker: dict[str, Any]) -> str:
    state = "alive" if worker.get("alive") else "silent"
    if worker.get("cordoned"):
        reason = worker.get("cordon_reason")
        state += ", cordoned" + (f" ({reason})" if reason else "")
    return state


COLUMNS = [
    Column.key("NAME", "name"),
    Column("STATE", _state),
    Column("RUNNING", lambda w: f"{w.get('running')}/{w.get('concurrency') or '?'}"),
    Column("LABELS", _labels),
    Column("RUNTIMES", _runtimes),
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def worker() -> None:
    """Workers: the processes that run actions."""


@worker.command("list")
@api_url_option
@output_option
def list_workers(api_url: str | None, output: Format) -> None:
    """List the workers with a recent heartbeat."""
    data = ApiClient.from_options(api_url).get("/api/v1/workers").data
    emit(data, output, lambda: emit_rows(data, COLUMNS))


@worker.command("cordon")
@click.argument("name")
@click.option("--reason", default="", help="Why (shown by `attune worker list`).")
@api_url_option
@output_option
def cordon(name: str, reason: str, api_url: str | None, output: Format) -> None:
    """Take a worker out of rotation: it finishes what it runs and takes nothing new."""
    data = ApiClient.from_options(api_url).post(
        f"/api/v1/workers/{segment(name)}/cordon", {"reason": reason}).data
    emit(data, output, lambda: click.echo(
        f"Worker {name} cordoned: it takes no new executions."))


@worker.command("uncordon")
@click.argument("name")
@api_url_option
@output_option
def uncordon(name: str, api_url: str | None, output: Format) -> None:
    """Put a cordoned worker back into rotation."""
    data = ApiClient.from_options(api_url).post(
        f"/api/v1/workers/{segment(name)}/uncordon", {}).data
    emit(data, output, lambda: click.echo(f"Worker {name} takes executions again."))
