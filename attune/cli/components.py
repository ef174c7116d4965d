"""Commands every catalogue component (trigger, rule, policy...) has in the same shape:
`enable REF`, `disable REF` and `delete REF`, against `/api/v1/<collection>/{ref}`."""

from __future__ import annotations

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.output import Format, emit, output_option


def add_lifecycle(group: click.Group, *, noun: str, collection: str, enable: str,
                  disable: str, delete: str) -> None:
    """Add the three commands to `group`; the strings are their help texts."""
    for verb, text in (("enable", enable), ("disable", disable)):
        group.add_command(_toggle(noun, collection, verb, text))
    group.add_command(_delete(noun, collection, delete))


def _toggle(noun: str, collection: str, verb: str, text: str) -> click.Command:
    @click.command(verb, help=text)
    @click.argument("ref")
    @api_url_option
    @output_option
    def command(ref: str, api_url: str | None, output: Format) -> None:
        client = ApiClient.from_options(api_url)
        data = client.post(f"/api/v1/{collection}/{segment(ref)}/{verb}", None).data
        emit(data, output, lambda: click.echo(f"{noun.capitalize()} {ref} {verb}d."))

    return command


def _delete(noun: str, collection: str, text: str) -> click.Command:
    @click.command("delete", help=text)
    @click.argument("ref")
    @api_url_option
    @output_option
    def command(ref: str, api_url: str | None, output: Format) -> None:
        client = ApiClient.from_options(api_url)
        body = client.request("DELETE", f"/api/v1/{collection}/{segment(ref)}").body
        emit(body, output, lambda: click.echo(f"{noun.capitalize()} {ref} deleted."))

    return command
