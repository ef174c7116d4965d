"""Printing what commands return — `-o json|yaml|table` — and errors.

JSON and YAML print the API's data unchanged (for scripts); tables (rich) are for
people and show chosen columns. Errors go to stderr as `Error: <message>`, with the
API's `details` below, and exit with code 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import click
import yaml
from rich.console import Console
from rich.table import Table

Format = Literal["table", "json", "yaml"]
FORMATS: tuple[Format, ...] = ("table", "json", "yaml")

F = TypeVar("F", bound=Callable[..., Any])


def output_option(func: F) -> F:
    """`-o/--output table|json|yaml` on a command that prints data."""
    option = click.option(
        "-o", "--output", "output", type=click.Choice(FORMATS), default="table",
        show_default=True, help="How to print the result: a table for people, JSON or "
        "YAML (the API's data unchanged) for scripts.")
    return option(func)


class CliError(click.ClickException):
    """A failure the user can act on: printed as `Error: <message>` plus details."""

    def __init__(self, message: str, details: Any = None, *, status: int | None = None
                 ) -> None:
        super().__init__(message)
        self.details = details
        #: the HTTP status when the API refused the request
        self.status = status

    def show(self, file: Any = None) -> None:
        message = self.format_message()
        click.echo(f"Error: {message}", err=True)
        for line in detail_lines(self.details):
            if line not in message:  # the API often sums its details up in the message
                click.echo(f"  {line}", err=True)


def detail_lines(details: Any) -> list[str]:
    """The API's `details` as lines: field errors as `field: message`, anything else
    as compact JSON."""
    if details is None:
        return []
    if isinstance(details, list):
        lines: list[str] = []
        for item in details:
            if isinstance(item, dict) and "message" in item:
                field = item.get("field")
                message = str(item["message"])
                # the server's messages often start with the field already
                lines.append(message if not field or message.startswith(f"{field}:")
                             else f"{field}: {message}")
            else:
                lines.append(compact(item))
        return lines
    if isinstance(details, dict):
        return [f"{key}: {compact(value)}" for key, value in details.items()]
    return [compact(details)]


def compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))


def console(*, err: bool = False) -> Console:
    # soft_wrap: never break a line in the middle of a value a user may copy
    return Console(stderr=err, soft_wrap=True, highlight=False)


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[dict[str, Any]], Any]

    @classmethod
    def key(cls, header: str, key: str) -> Column:
        return cls(header, lambda row: row.get(key))


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return compact(value)


def emit_data(data: Any, fmt: Format) -> None:
    """JSON or YAML of `data`, as the API returned it."""
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(yaml.safe_dump(json.loads(json.dumps(data, default=str)),
                                  sort_keys=False, allow_unicode=True), nl=False)


def emit_rows(rows: Sequence[dict[str, Any]], columns: Sequence[Column], *,
              title: str | None = None, footer: str | None = None) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    cells = [[cell(column.value(row)) for column in columns] for row in rows]
    # a column empty in every row only takes room from the others
    shown = [i for i in range(len(columns)) if any(r[i] for r in cells)] or [0]
    for i in shown:
        table.add_column(columns[i].header, overflow="fold")
    for r in cells:
        table.add_row(*(r[i] for i in shown))
    out = console()
    if rows:
        out.print(table)
    else:
        out.print("(none)")
    if footer:
        out.print(footer)


def emit_fields(fields: Sequence[tuple[str, Any]], *, title: str | None = None) -> None:
    """One object as a two-column table, field names on the left."""
    table = Table(title=title, title_justify="left", show_header=False, box=None,
                  padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in fields:
        table.add_row(name, cell(value))
    console().print(table)


def emit(data: Any, fmt: Format, table: Callable[[], None]) -> None:
    """Print `data` as JSON/YAML, or call `table` to print it for people."""
    if fmt == "table":
        table()
    else:
        emit_data(data, fmt)


def emit_page(body: Any, fmt: Format, columns: Sequence[Column]) -> None:
    """Print one page of an API list (`{"items", "pagination"}`)."""
    page = body if isinstance(body, dict) else {}
    emit(body, fmt, lambda: emit_rows(page.get("items", []), columns,
                                      footer=pagination_footer(page.get("pagination"))))


def pagination_footer(pagination: dict[str, Any] | None) -> str | None:
    if not pagination:
        return None
    page = pagination.get("page", 1)
    total_pages = pagination.get("total_pages")
    total_items = pagination.get("total_items")
    text = f"page {page}" + (f" of {total_pages}" if total_pages is not None else "")
    if total_items is not None:
        text += f", {total_items} in all"
    if pagination.get("has_next"):
        text += f" (next: --page {int(page) + 1})"
    return text
