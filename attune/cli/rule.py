"""`attune rule list|show|create|enable|disable|delete|test`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.coerce import coerce, split_assignments
from attune.cli.components import add_lifecycle
from attune.cli.documents import json_option, json_value, load_document
from attune.cli.output import (
    Column,
    Format,
    compact,
    emit,
    emit_fields,
    emit_page,
    emit_rows,
    output_option,
)

RULE_COLUMNS = [
    Column.key("REF", "ref"),
    Column.key("TRIGGER", "trigger_ref"),
    Column.key("ACTION", "action_ref"),
    Column.key("ENABLED", "enabled"),
    Column.key("SOURCE", "source"),
]


def show_rule(rule: dict[str, Any]) -> None:
    emit_fields([(name, rule.get(key)) for name, key in (
        ("Ref", "ref"), ("Pack", "pack_ref"), ("Label", "label"),
        ("Description", "description"), ("Enabled", "enabled"), ("Trigger", "trigger_ref"),
        ("Trigger parameters", "trigger_params"), ("Action", "action_ref"),
        ("Action parameters", "action_params"), ("Conditions", "conditions"),
        ("Condition", "condition"), ("Source", "source"), ("Tags", "tags"),
        ("Updated", "updated"))
        if rule.get(key) not in (None, "", [], {})], title=f"Rule {rule.get('ref')}")


def typed(pairs: Iterable[str], schema: Mapping[str, Any]) -> dict[str, Any]:
    """NAME=VALUE with the schema's types; a value holding a template stays text (it
    is rendered per event)."""
    out: dict[str, Any] = {}
    for name, text in split_assignments(pairs):
        spec = schema.get(name)
        out[name] = text if "{{" in text else coerce(
            name, text, spec if isinstance(spec, Mapping) else None)
    return out


def from_pack_shape(doc: dict[str, Any]) -> dict[str, Any]:
    """A rule file in the pack form (`trigger: {type, parameters}`, `action: {ref,
    parameters}`) as the API's fields."""
    out = dict(doc)
    trigger, action = out.pop("trigger", None), out.pop("action", None)
    if isinstance(trigger, dict):
        out.setdefault("trigger_ref", trigger.get("type"))
        if trigger.get("parameters") is not None:
            out.setdefault("trigger_params", trigger["parameters"])
    if isinstance(action, dict):
        out.setdefault("action_ref", action.get("ref"))
        if action.get("parameters") is not None:
            out.setdefault("action_params", action["parameters"])
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def rule() -> None:
    """Rules: when an event of a trigger matches the conditions, run an action."""


@rule.command("list")
@click.option("--pack", "pack_ref", metavar="REF", help="Only rules of this pack.")
@click.option("--trigger", "trigger_ref", metavar="REF", help="Only rules of this trigger.")
@click.option("--action", "action_ref", metavar="REF", help="Only rules running this action.")
@click.option("-q", "--query", "q", metavar="WORDS",
              help="Words that must all appear in ref, label, description or pack.")
@click.option("--enabled/--disabled", "enabled", default=None,
              help="Only enabled (or only disabled) rules.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_rules(pack_ref: str | None, trigger_ref: str | None, action_ref: str | None,
               q: str | None, enabled: bool | None, page: int, page_size: int,
               api_url: str | None, output: Format) -> None:
    """List rules."""
    client = ApiClient.from_options(api_url)
    body = client.get("/api/v1/rules", query={
        "pack_ref": pack_ref, "trigger_ref": trigger_ref, "action_ref": action_ref, "q": q,
        "enabled": enabled, "page": page,
        "page_size": page_size, "include_total": "true"}).body
    emit_page(body, output, RULE_COLUMNS)


@rule.command("show")
@click.argument("ref")
@api_url_option
@output_option
def show(ref: str, api_url: str | None, output: Format) -> None:
    """Show the rule REF."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/rules/{segment(ref)}").data
    emit(data, output, lambda: show_rule(data))


@rule.command("create")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--ref", metavar="PACK.NAME", help="The new rule's ref (the pack must exist).")
@click.option("--trigger", "trigger_ref", metavar="REF", help="The trigger it reacts to.")
@click.option("--action", "action_ref", metavar="REF", help="The action it runs.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="An action parameter; values may be templates like "
                   "'{{ event.payload.host }}' (repeat for several).")
@click.option("--params-json", metavar="JSON", help="Action parameters as one JSON object.")
@click.option("--trigger-param", "trigger_params", multiple=True, metavar="NAME=VALUE",
              help="A parameter for the trigger (e.g. interval=10 for a timer).")
@click.option("--conditions", metavar="JSON",
              help="'[{\"field\": \"severity\", \"operator\": \"equals\", \"value\": "
                   "\"critical\"}]' or '{\"expression\": \"{{ ... }}\"}'.")
@click.option("--condition", type=click.Choice(["all", "any"]),
              help="How the listed conditions combine (default all).")
@click.option("--label", help="A short title.")
@click.option("--description", help="What the rule is for.")
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@api_url_option
@output_option
def create(file: Path | None, ref: str | None, trigger_ref: str | None,
           action_ref: str | None, params: tuple[str, ...], params_json: str | None,
           trigger_params: tuple[str, ...], conditions: str | None, condition: str | None,
           label: str | None, description: str | None, disabled: bool, api_url: str | None,
           output: Format) -> None:
    """Create a rule from FILE (YAML or JSON: the API's fields, or a pack's rule file)
    and/or options, which override the file's fields.

    \b
    Conditions, templates and parameters are checked by the server, e.g.
      attune rule create --ref mypack.on_alert --trigger core.webhook --action core.echo \\
        --param message='alert from {{ event.payload.host }}' \\
        --conditions '[{"field": "severity", "operator": "equals", "value": "critical"}]'
    """
    body = from_pack_shape(load_document(file)) if file else {}
    for key, value in (("ref", ref), ("trigger_ref", trigger_ref), ("action_ref", action_ref),
                       ("condition", condition), ("label", label),
                       ("description", description)):
        if value is not None:
            body[key] = value
    if conditions is not None:
        body["conditions"] = json_value(conditions, "--conditions")
    if disabled:
        body["enabled"] = False
    missing = [flag for key, flag in (("ref", "--ref"), ("trigger_ref", "--trigger"),
                                      ("action_ref", "--action")) if not body.get(key)]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)} (or the field in FILE)")
    client = ApiClient.from_options(api_url)
    if params or params_json:
        action = client.get(f"/api/v1/actions/{segment(body['action_ref'])}").data
        schema = (action.get("parameters") or {}) if isinstance(action, dict) else {}
        action_params = dict(body.get("action_params") or {})
        action_params.update(json_option(params_json, "--params-json") or {})
        action_params.update(typed(params, schema))
        body["action_params"] = action_params
    if trigger_params:
        trigger = client.get(f"/api/v1/triggers/{segment(body['trigger_ref'])}").data
        schema = (trigger.get("param_schema") or {}) if isinstance(trigger, dict) else {}
        body["trigger_params"] = {**(body.get("trigger_params") or {}),
                                  **typed(trigger_params, schema)}
    data = client.post("/api/v1/rules", body).data
    emit(data, output, lambda: click.echo(f"Rule {data.get('ref')} created."))


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


class Duration(click.ParamType[int]):
    """`90s`, `30m`, `1h`, `2d`, `1w` or plain seconds, as seconds."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
        if not number.isdigit() or int(number) == 0:
            self.fail(f"{value!r} is not a duration: write e.g. 90s, 30m, 1h or 2d", param, ctx)
        return int(number) * _UNITS[unit]


def _result_cell(result: dict[str, Any]) -> str:
    if result.get("error"):
        return f"error: {result['error']}"
    params = result.get("params")
    if not isinstance(params, dict):
        return ""
    # a redacted secret reads better as *** in a table (JSON output keeps the marker)
    return compact({k: ("***" if isinstance(v, dict) and v.get("redacted") is True else v)
                    for k, v in params.items()})


TEST_COLUMNS = [
    Column("EVENT", lambda r: r.get("event_id") if r.get("event_id") is not None
           else "(payload)"),
    Column.key("MATCHED", "matched"),
    Column("PARAMS/ERROR", _result_cell),
]


@rule.command("test")
@click.argument("ref")
@click.option("--payload", metavar="JSON",
              help="Evaluate against one event of the rule's trigger with this payload.")
@click.option("--since", type=Duration(), metavar="DURATION",
              help="Evaluate against the recorded events of the rule's trigger since then "
                   "(e.g. 1h, 30m, 2d).")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="At most this many events (newest first) with --since.")
@api_url_option
@output_option
def test(ref: str, payload: str | None, since: int | None, limit: int, api_url: str | None,
         output: Format) -> None:
    """What-if: what the rule REF (its current definition, even disabled) would do with
    a payload, or with the events of its trigger recorded since DURATION ago. Nothing
    is recorded and nothing runs.

    \b
      attune rule test mypack.on_alert --payload '{"severity": "critical"}'
      attune rule test mypack.on_alert --since 1h
    """
    if (payload is None) == (since is None):
        raise click.UsageError("give either --payload JSON or --since DURATION")
    body: dict[str, Any] = ({"payload": json_option(payload, "--payload")}
                            if payload is not None else {"since_seconds": since, "limit": limit})
    client = ApiClient.from_options(api_url)
    data = client.post(f"/api/v1/rules/{segment(ref)}/test", body).data

    def table() -> None:
        emit_rows(data.get("results", []), TEST_COLUMNS)
        click.echo(f"{data.get('matched')} of {data.get('evaluated')} events would match"
                   + ("" if data.get("enabled", True) else " (the rule is disabled)"))
    emit(data, output, table)


add_lifecycle(rule, noun="rule", collection="rules",
              enable="Enable the rule REF.",
              disable="Disable the rule REF: it matches no event until enabled again.",
              delete="Delete the rule REF (one created through the API).")
