"""`attune webhook enable|disable|regenerate|show|configure|post TRIGGER_REF`."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import click

from attune.cli.client import ApiClient, api_url_option, segment
from attune.cli.documents import json_option
from attune.cli.output import CliError, Format, emit, emit_fields, output_option
from attune.cli.trigger import webhook_fields


def _webhook_path(ref: str) -> str:
    return f"/api/v1/triggers/{segment(ref)}/webhooks"


def show_webhook(trigger: dict[str, Any], api_url: str) -> None:
    webhook = trigger.get("webhook") or {}
    emit_fields(webhook_fields(webhook, api_url), title=f"Webhook of {trigger.get('ref')}")


def _command(ref: str, verb: str, api_url: str | None, output: Format) -> None:
    client = ApiClient.from_options(api_url)
    data = client.post(f"{_webhook_path(ref)}/{verb}", None).data
    emit(data, output, lambda: show_webhook(data, client.api_url))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def webhook() -> None:
    """Webhooks: let other systems post events to a trigger over HTTP, with a key
    in the URL instead of a token."""


@webhook.command("enable")
@click.argument("trigger_ref", metavar="TRIGGER_REF")
@api_url_option
@output_option
def enable(trigger_ref: str, api_url: str | None, output: Format) -> None:
    """Switch on the webhook of TRIGGER_REF and show its URL."""
    _command(trigger_ref, "enable", api_url, output)


@webhook.command("disable")
@click.argument("trigger_ref", metavar="TRIGGER_REF")
@api_url_option
@output_option
def disable(trigger_ref: str, api_url: str | None, output: Format) -> None:
    """Switch off the webhook of TRIGGER_REF (its URL answers 403)."""
    _command(trigger_ref, "disable", api_url, output)


@webhook.command("regenerate")
@click.argument("trigger_ref", metavar="TRIGGER_REF")
@api_url_option
@output_option
def regenerate(trigger_ref: str, api_url: str | None, output: Format) -> None:
    """Give the webhook of TRIGGER_REF a new key; the old URL stops working."""
    _command(trigger_ref, "regenerate", api_url, output)


@webhook.command("show")
@click.argument("trigger_ref", metavar="TRIGGER_REF")
@api_url_option
@output_option
def show(trigger_ref: str, api_url: str | None, output: Format) -> None:
    """Show the webhook of TRIGGER_REF: state, URL and protections."""
    client = ApiClient.from_options(api_url)
    data = client.get(f"/api/v1/triggers/{segment(trigger_ref)}").data
    emit(data.get("webhook"), output, lambda: show_webhook(data, client.api_url))


@webhook.command("configure")
@click.argument("trigger_ref", metavar="TRIGGER_REF")
@click.option("--hmac-algorithm", type=click.Choice(["sha256", "sha512"]),
              help="Require an HMAC signature of the body (X-Webhook-Signature).")
@click.option("--hmac-secret", metavar="SECRET",
              help="The shared secret (at least 16 characters); kept when left out.")
@click.option("--rate-limit", "rate_limit_per_minute", type=click.IntRange(1, 100_000),
              metavar="N", help="At most N requests per minute (per API process).")
@click.option("--max-payload-bytes", type=click.IntRange(min=1), metavar="BYTES",
              help="Largest body accepted (default 1 MiB).")
@click.option("--allow", "ip_allowlist", multiple=True, metavar="CIDR",
              help="Only these client addresses (repeat for several).")
@api_url_option
@output_option
def configure(trigger_ref: str, hmac_algorithm: str | None, hmac_secret: str | None,
              rate_limit_per_minute: int | None, max_payload_bytes: int | None,
              ip_allowlist: tuple[str, ...], api_url: str | None, output: Format) -> None:
    """Set the protections of the webhook of TRIGGER_REF (all at once: an option left
    out turns its protection off, except the HMAC secret)."""
    body: dict[str, Any] = {"hmac_algorithm": hmac_algorithm,
                            "rate_limit_per_minute": rate_limit_per_minute,
                            "ip_allowlist": list(ip_allowlist)}
    if hmac_secret is not None:
        body["hmac_secret"] = hmac_secret
    if max_payload_bytes is not None:
        body["max_payload_bytes"] = max_payload_bytes
    client = ApiClient.from_options(api_url)
    data = client.request("PUT", _webhook_path(trigger_ref), body=body).data
    emit(data, output, lambda: show_webhook(data, client.api_url))


@webhook.command("post")
@click.argument("trigger_ref", metavar="TRIGGER_REF")
@click.option("--payload", metavar="JSON", default="{}", show_default=True,
              help="The body to post: a JSON object.")
@click.option("--hmac-secret", metavar="SECRET",
              help="Sign the body with this secret (when the webhook requires HMAC).")
@api_url_option
@output_option
def post(trigger_ref: str, payload: str, hmac_secret: str | None, api_url: str | None,
         output: Format) -> None:
    """Post PAYLOAD to the webhook of TRIGGER_REF, as another system would (its key
    is looked up with your login; the post itself sends no token)."""
    body = json_option(payload, "--payload")
    client = ApiClient.from_options(api_url)
    trigger = client.get(f"/api/v1/triggers/{segment(trigger_ref)}").data
    webhook_state = trigger.get("webhook") or {}
    if not webhook_state.get("enabled") or not webhook_state.get("url"):
        raise CliError(f"the webhook of {trigger_ref} is off: switch it on with "
                       f"`attune webhook enable {trigger_ref}`")
    headers: dict[str, str] = {}
    if hmac_secret:
        algorithm = (webhook_state.get("security") or {}).get("hmac_algorithm") or "sha256"
        # the client sends exactly json.dumps(body): sign those bytes
        raw = json.dumps(body).encode()
        digest = hmac.new(hmac_secret.encode(), raw, getattr(hashlib, algorithm)).hexdigest()
        headers["X-Webhook-Signature"] = f"{algorithm}={digest}"
    data = client.request("POST", webhook_state["url"], body=body, headers=headers,
                          auth=False).data
    emit(data, output, lambda: click.echo(
        f"Event {data.get('event_id')} created ({trigger_ref}). Show it with "
        f"`attune event show {data.get('event_id')}`."))
