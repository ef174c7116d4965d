"""`attune workflow list|get|create|update|delete|validate|pause|resume|tree`: workflow
definitions (actions whose graph the executor's conductor runs) and control of their runs;
also how a tree of executions is drawn (`attune execution get --tree`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
import yaml
from rich.tree import Tree

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.output import (
    CliError,
    Column,
    Format,
    console,
    emit,
    emit_fields,
    emit_page,
    output_option,
)

COLUMNS = [
    Column.key("REF", "ref"),
    Column.key("LABEL", "label"),
    Column("TASKS", lambda w: len((w.get("definition") or {}).get("tasks") or [])),
    Column.key("ENABLED", "enabled"),
]


def _document(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CliError(f"{path}: cannot read the workflow: {exc}") from None
    if not isinstance(doc, dict):
        raise CliError(f"{path}: a workflow file is a YAML mapping (version, tasks, ...)")
    return doc


def _seconds(node: dict[str, Any]) -> str:
    try:
        started = datetime.fromisoformat(node["started_at"])
        finished = datetime.fromisoformat(node["finished_at"])
    except (KeyError, TypeError, ValueError):
        return ""
    return f" {(finished - started).total_seconds():.2f} s"


_STATUS_STYLE = {"completed": "green", "failed": "red", "timeout": "red",
                 "cancelled": "yellow", "abandoned": "red"}


def _label(node: dict[str, Any]) -> str:
    task = node.get("task")
    where = ""
    if task:
        item = f"[{node['item']}]" if node.get("item") is not None else ""
        attempt = f" attempt {node['attempt']}" if (node.get("attempt") or 1) > 1 else ""
        where = f"[bold]{task}{item}[/bold]{attempt}: "
    style = _STATUS_STYLE.get(node["status"], "cyan")
    return (f"{where}{node['action_ref']} #{node['id']} "
            f"[{style}]{node['status']}[/{style}]{_seconds(node)}")


def show_tree(root: dict[str, Any]) -> None:
    tree = Tree(_label(root))

    def add(branch: Tree, node: dict[str, Any]) -> None:
        for child in node.get("children") or []:
            add(branch.add(_label(child)), child)
    add(tree, root)
    console().print(tree)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def workflow() -> None:
    """Workflows: define them, validate them, pause and resume their runs."""


@workflow.command("list")
@click.option("--pack", "pack_ref", metavar="REF", help="Only the workflows of this pack.")
@api_url_option
@output_option
def list_workflows(pack_ref: str | None, api_url: str | None, output: Format) -> None:
    """List workflows."""
    client = ApiClient.from_options(api_url)
    emit_page(client.get("/api/v1/workflows", query={
        "pack_ref": pack_ref, "include_total": "true", "page_size": 100}).body,
        output, COLUMNS)


@workflow.command("get")
@click.argument("ref")
@api_url_option
@output_option
def get_workflow(ref: str, api_url: str | None, output: Format) -> None:
    """Show a workflow and its tasks."""
    data = ApiClient.from_options(api_url).get(f"/api/v1/workflows/{segment(ref)}").data
    tasks = (data.get("definition") or {}).get("tasks") or []
    emit(data, output, lambda: emit_fields([
        ("Ref", data["ref"]), ("Label", data["label"]), ("Enabled", data["enabled"]),
        ("Parameters", data.get("parameters")),
        ("Tasks", ", ".join(f"{t['name']} ({t.get('action') or 'routing'})" for t in tasks)),
    ], title=f"Workflow {data['ref']}"))


@workflow.command("create")
@click.argument("ref")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@api_url_option
@output_option
def create_workflow(ref: str, file: Path, api_url: str | None, output: Format) -> None:
    """Create workflow REF (<pack>.<name>) from a YAML FILE."""
    data = ApiClient.from_options(api_url).post(
        "/api/v1/workflows", {"ref": ref, "definition": _document(file)}).data
    emit(data, output, lambda: click.echo(f"Workflow {ref} created."))


@workflow.command("update")
@click.argument("ref")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@api_url_option
@output_option
def update_workflow(ref: str, file: Path, api_url: str | None, output: Format) -> None:
    """Replace workflow REF's definition with a YAML FILE."""
    data = ApiClient.from_options(api_url).request(
        "PUT", f"/api/v1/workflows/{segment(ref)}", body={"definition": _document(file)}).data
    emit(data, output, lambda: click.echo(f"Workflow {ref} updated."))


@workflow.command("delete")
@click.argument("ref")
@api_url_option
def delete_workflow(ref: str, api_url: str | None) -> None:
    """Delete workflow REF."""
    ApiClient.from_options(api_url).request("DELETE", f"/api/v1/workflows/{segment(ref)}")
    click.echo(f"Workflow {ref} deleted.")


@workflow.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pack", "pack_ref", default="core", show_default=True, metavar="REF",
              help="The pack the workflow belongs to.")
@api_url_option
@output_option
def validate_workflow(file: Path, pack_ref: str, api_url: str | None,
                      output: Format) -> None:
    """Check a workflow FILE: graph, expressions, actions; errors and warnings name the
    task and field. Exits 1 when it has errors."""
    data = ApiClient.from_options(api_url).post(
        f"/api/v1/packs/{segment(pack_ref)}/workflows/validate",
        {"definition": _document(file), "name": file.name.split(".")[0]}).data

    def show() -> None:
        for problem in [*data["errors"], *data["warnings"]]:
            click.echo(f"{problem['severity']}: {problem['field'] or '(workflow)'}: "
                       f"{problem['message']}")
        click.echo("valid" if data["valid"] else "invalid")
    emit(data, output, show)
    if not data["valid"]:
        raise SystemExit(1)


def _control(verb: str, execution_id: int, api_url: str | None, output: Format) -> None:
    data = ApiClient.from_options(api_url).post(
        f"/api/v1/executions/{execution_id}/{verb}", None).data
    emit(data, output, lambda: click.echo(f"Workflow execution {execution_id}: {verb} "
                                          "asked."))


@workflow.command("pause")
@click.argument("execution_id", metavar="ID", type=click.IntRange(min=1))
@api_url_option
@output_option
def pause(execution_id: int, api_url: str | None, output: Format) -> None:
    """Pause a running workflow: running tasks finish, no new one starts."""
    _control("pause", execution_id, api_url, output)


@workflow.command("resume")
@click.argument("execution_id", metavar="ID", type=click.IntRange(min=1))
@api_url_option
@output_option
def resume(execution_id: int, api_url: str | None, output: Format) -> None:
    """Resume a paused workflow."""
    _control("resume", execution_id, api_url, output)


@workflow.command("tree")
@click.argument("execution_id", metavar="ID", type=click.IntRange(min=1))
@api_url_option
@output_option
def tree(execution_id: int, api_url: str | None, output: Format) -> None:
    """Show a workflow execution with its tasks' executions (as `execution get --tree`)."""
    nodes = ApiClient.from_options(api_url).get(f"/api/v1/executions/{execution_id}/tree").data
    emit(nodes, output, lambda: show_tree(nodes))
