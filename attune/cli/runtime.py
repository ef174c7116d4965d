"""`attune runtime list|show`: the runtimes packs define (how workers run actions)."""

from __future__ import annotations

from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.output import Column, Format, emit, emit_fields, emit_page, emit_rows, output_option

RUNTIME_COLUMNS = [
    Column.key("REF", "ref"),
    Column.key("FAMILY", "family"),
    Column("ALIASES", lambda r: ", ".join(r.get("aliases") or [])),
    Column("VERSIONS", lambda r: ", ".join(v["version"] for v in r.get("versions") or [])),
    Column.key("ENABLED", "enabled"),
]

VERSION_COLUMNS = [
    Column.key("VERSION", "version"),
    Column("INTERPRETER", lambda v: ((v.get("execution_config") or {}).get("interpreter")
                                     or {}).get("binary")),
    Column("DEFAULT", lambda v: "yes" if v.get("is_default") else ""),
]


def show_runtime(runtime: dict[str, Any]) -> None:
    config = runtime.get("execution_config") or {}
    interpreter = config.get("interpreter") or {}
    dependencies = config.get("dependencies") or {}
    emit_fields([(name, value) for name, value in (
        ("Ref", runtime.get("ref")), ("Pack", runtime.get("pack_ref")),
        ("Name", runtime.get("name")), ("Family", runtime.get("family")),
        ("Aliases", ", ".join(runtime.get("aliases") or [])),
        ("Description", runtime.get("description")),
        ("Interpreter", " ".join([interpreter.get("binary") or "", *interpreter.get("args", [])])
         .strip() or ("built in" if config.get("builtin") else "none (native)")),
        ("Manifest", dependencies.get("manifest_file")),
        ("Enabled", runtime.get("enabled")))
        if value not in (None, "")], title=f"Runtime {runtime.get('ref')}")
    if runtime.get("versions"):
        emit_rows(runtime["versions"], VERSION_COLUMNS, title="Versions")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def runtime() -> None:
    """Runtimes: how workers run actions (interpreters, pack environments, versions)."""


@runtime.command("list")
@click.option("--pack", "pack_ref", metavar="REF", help="Only runtimes of this pack.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_runtimes(pack_ref: str | None, page: int, page_size: int, api_url: str | None,
                  output: Format) -> None:
    """List runtimes."""
    client = ApiClient.from_options(api_url)
    body = client.get("/api/v1/runtimes", query={
        "pack_ref": pack_ref, "page": page, "page_size": page_size,
        "include_total": "true"}).body
    emit_page(body, output, RUNTIME_COLUMNS)


@runtime.command("show")
@click.argument("ref")
@api_url_option
@output_option
def show(ref: str, api_url: str | None, output: Format) -> None:
    """Show the runtime REF: interpreter, dependency manifest, versions."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/runtimes/{segment(ref)}").data
    emit(data, output, lambda: show_runtime(data))
