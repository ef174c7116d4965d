"""`attune history ENTITY REF`: every change to a rule, action, key (or trigger,
sensor, policy, runtime, pack, identity, permission set, artifact) with who made it
and when, read from the event stream — values of secrets never shown."""

from __future__ import annotations

from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.output import Column, Format, emit, emit_rows, output_option

#: entities whose readers may see their history (else audit_log:read is needed)
OWN_ROUTE = {"rule": "rules", "action": "actions", "key": "keys"}
ENTITIES = ("rule", "action", "key", "trigger", "sensor", "policy", "runtime", "pack",
            "identity", "permission-set", "artifact")


def describe(summary: dict[str, Any]) -> str:
    if summary.get("created"):
        return f"created ({summary.get('source')})"
    if "changed" in summary:
        return "changed: " + (", ".join(summary["changed"]) or "nothing")
    return ", ".join(f"{k}={v}" for k, v in summary.items() if v not in (None, "", [], {}))


COLUMNS = [
    Column.key("SEQ", "sequence"),
    Column.key("AT", "at"),
    Column.key("WHO", "actor"),
    Column.key("EVENT", "event_type"),
    Column("CHANGE", lambda row: describe(row.get("summary") or {})),
    Column.key("REQUEST", "request_id"),
]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("entity", type=click.Choice(ENTITIES))
@click.argument("ref")
@api_url_option
@output_option
def history(entity: str, ref: str, api_url: str | None, output: Format) -> None:
    """Every change to ENTITY REF, oldest first, with who and when.

    \b
      attune history rule mypack.on_push
      attune history key system.smtp_password
    """
    client = ApiClient.from_options(api_url)
    path = (f"/api/v1/{OWN_ROUTE[entity]}/{segment(ref)}/history" if entity in OWN_ROUTE
            else f"/api/v1/history/{entity}/{segment(ref)}")
    data = client.get(path).data
    emit(data, output, lambda: emit_rows(data, COLUMNS, title=f"History of {entity} {ref}"))
