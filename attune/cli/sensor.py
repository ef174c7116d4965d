"""`attune sensor list|show|logs|enable|disable`."""

from __future__ import annotations

from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.output import Column, Format, emit, emit_fields, emit_page, output_option

SENSOR_COLUMNS = [
    Column.key("REF", "ref"),
    Column.key("ENABLED", "enabled"),
    Column.key("MODE", "mode"),
    Column.key("RUNNER", "runner_type"),
    Column("TRIGGERS", lambda s: ", ".join(s.get("trigger_types") or [])),
    Column.key("DESCRIPTION", "description"),
]


def show_sensor(sensor: dict[str, Any]) -> None:
    poll = sensor.get("mode") == "poll"
    fields = [
        ("Ref", sensor.get("ref")), ("Pack", sensor.get("pack_ref")),
        ("Label", sensor.get("label")), ("Description", sensor.get("description")),
        ("Enabled", sensor.get("enabled")), ("Mode", sensor.get("mode")),
        ("Runner", sensor.get("runner_type")),
        ("Entry point", f"sensors/{sensor.get('entry_point')}"),
        ("Trigger types", ", ".join(sensor.get("trigger_types") or [])),
        ("Poll interval", f"{sensor.get('poll_interval')} s" if poll else None),
        ("Timeout", f"{sensor.get('timeout')} s" if poll else None),
        ("Config", sensor.get("config") or None),
        ("Running on", sensor.get("running_on") or ("not running" if sensor.get("enabled")
                                                    else None)),
        ("Source", sensor.get("source")), ("Updated", sensor.get("updated"))]
    emit_fields([(k, v) for k, v in fields if v not in (None, "", [])],
                title=f"Sensor {sensor.get('ref')}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def sensor() -> None:
    """Sensors: pack code that watches the world and emits events (run by the sensor
    service)."""


@sensor.command("list")
@click.option("--pack", "pack_ref", metavar="REF", help="Only sensors of this pack.")
@click.option("--trigger", "trigger_ref", metavar="REF",
              help="Only sensors emitting this trigger type.")
@click.option("-q", "--query", "q", metavar="WORDS",
              help="Words that must all appear in ref, label, description or pack.")
@click.option("--enabled/--disabled", "enabled", default=None,
              help="Only enabled (or only disabled) sensors.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 100), default=50, show_default=True)
@api_url_option
@output_option
def list_sensors(pack_ref: str | None, trigger_ref: str | None, q: str | None,
                 enabled: bool | None, page: int, page_size: int, api_url: str | None,
                 output: Format) -> None:
    """List sensors."""
    client = ApiClient.from_options(api_url)
    body = client.get("/api/v1/sensors", query={
        "pack_ref": pack_ref, "trigger_ref": trigger_ref, "q": q, "enabled": enabled,
        "page": page, "page_size": page_size, "include_total": "true"}).body
    emit_page(body, output, SENSOR_COLUMNS)


@sensor.command("show")
@click.argument("ref")
@api_url_option
@output_option
def show(ref: str, api_url: str | None, output: Format) -> None:
    """Show the sensor REF and the sensor service replica running it."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/sensors/{segment(ref)}").data
    emit(data, output, lambda: show_sensor(data))


@sensor.command("logs")
@click.argument("ref")
@click.option("--since", "since_seconds", type=click.IntRange(1, 7 * 86400), default=3600,
              show_default=True, metavar="SECONDS", help="Lines of the last SECONDS.")
@click.option("-n", "--lines", "limit", type=click.IntRange(1, 5000), default=200,
              show_default=True, help="The newest N lines.")
@click.option("--stream", type=click.Choice(["stdout", "stderr", "service"]),
              help="Only the process's stdout or stderr, or the service's lines about it.")
@api_url_option
@output_option
def logs(ref: str, since_seconds: int, limit: int, stream: str | None, api_url: str | None,
         output: Format) -> None:
    """What the sensor REF wrote, and what the sensor service said about it (started,
    exited, restarting, polls refused)."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/sensors/{segment(ref)}/logs", query={
        "since_seconds": since_seconds, "limit": limit, "stream": stream}).data

    def text() -> None:
        if data.get("truncated"):
            click.echo(f"(older lines left out: raise --lines above {limit})")
        for line in data.get("lines") or []:
            click.echo(f"{line['at']} {line['stream']:<7} {line['text']}")
        if not data.get("lines"):
            click.echo("(no lines)")

    emit(data, output, text)


def _toggle(verb: str, text: str) -> click.Command:
    @click.command(verb, help=text)
    @click.argument("ref")
    @api_url_option
    @output_option
    def command(ref: str, api_url: str | None, output: Format) -> None:
        client = ApiClient.from_options(api_url)
        data = client.post(f"/api/v1/sensors/{segment(ref)}/{verb}", None).data
        emit(data, output, lambda: click.echo(f"Sensor {ref} {verb}d."))
    return command


sensor.add_command(_toggle("enable", "Enable the sensor REF: the sensor service starts it."))
sensor.add_command(_toggle("disable", "Disable the sensor REF: the sensor service stops it."))
