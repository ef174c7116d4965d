"""`attune watch [FILTER ...] [--since N]`: print live notifications from the notifier.

Filters as the notifier takes them (`all` when none is given). Each notification is
printed once, in stream order: after a dropped connection the command reconnects and
reads back what it missed (`since`), after an expired token it refreshes the login
first, and after a `resync` (it read too slowly) it reads back from the gap on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import click
import yaml

from attune.cli.client import ApiClient, api_url_option
from attune.cli.output import CliError

NOTIFIER_PORT = 8081
TOKEN_EXPIRED = 4401
FORMATS = ("table", "json", "yaml")
#: Sequences remembered to print nothing twice when a read-back overlaps.
SEEN_LIMIT = 100_000


def default_notifier_url(api_url: str) -> str:
    parts = urlsplit(api_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.hostname or '127.0.0.1'}:{NOTIFIER_PORT}/ws"


@click.command()
@click.argument("filters", nargs=-1)
@click.option("--since", type=click.IntRange(min=0), default=None, metavar="SEQUENCE",
              help="First read back every notification after this stream sequence (the "
                   "`sequence` of the last one you saw), then go on live.")
@click.option("--count", "-n", type=click.IntRange(min=1), default=None,
              help="Stop after this many notifications.")
@click.option("--notifier-url", envvar="ATTUNE_NOTIFIER_URL", metavar="URL", default=None,
              help="The notifier's WebSocket [env ATTUNE_NOTIFIER_URL; default: the API's "
                   f"host, port {NOTIFIER_PORT}, /ws].")
@click.option("-o", "--output", "output", type=click.Choice(FORMATS), default="table",
              show_default=True,
              help="table: one line per notification for people; json: one JSON object "
                   "per line (NDJSON); yaml: one YAML document each.")
@api_url_option
def watch(filters: tuple[str, ...], since: int | None, count: int | None,
          notifier_url: str | None, output: str, api_url: str | None) -> None:
    """Print live notifications (executions, events, enforcements, rules) as they happen.

    FILTERS: all, entity_type:<type>, entity:<type>:<id>, notification_type:<type>,
    trigger_ref:<ref>, user:<id> (any of them matches). Examples:

    \b
      attune watch
      attune watch entity_type:execution
      attune watch entity:execution:7311 -o json
      attune watch notification_type:event_created --since 1200
    """
    client = ApiClient.from_options(api_url)
    url = notifier_url or default_notifier_url(client.api_url)
    watcher = Watcher(client, url, list(filters) or ["all"], since, count, output)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how one stops watching
        asyncio.run(watcher.run())


class Watcher:
    def __init__(self, client: ApiClient, url: str, filters: list[str], since: int | None,
                 count: int | None, output: str) -> None:
        self.client = client
        self.url = url
        self.filters = filters
        self.since = since
        self.count = count
        self.output = output
        self.printed = 0
        self.seen: set[int] = set()
        #: `subscribed` answers still to come; with a read-back, notifications before
        #: its answer are live ones it sends again in order, so they are not printed
        self.acks_pending = 0

    def token(self) -> str:
        """A valid token: checking it with the API refreshes an expired login."""
        self.client.get("/auth/me")
        token = (os.environ.get("ATTUNE_AUTH_TOKEN")
                 or self.client.config.tokens_for(self.client.api_url)[0])
        if not token:
            raise CliError("not logged in: run `attune login` first (or set "
                           "ATTUNE_AUTH_TOKEN)")
        return token

    async def run(self) -> None:
        backoff = 0.5
        while True:
            token = await asyncio.to_thread(self.token)
            try:
                code = await self.session(token)
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if isinstance(exc, aiohttp.WSServerHandshakeError):
                    raise CliError(f"the notifier at {self.url} refused the connection "
                                   f"({exc.status} {exc.message})") from None
                if self.since is None and not self.seen:
                    raise CliError(f"cannot reach the notifier at {self.url}: is `attune up` "
                                   "running? (set --notifier-url)") from None
                code = None
            if code == "done":
                return
            if code != TOKEN_EXPIRED:
                click.echo(f"(connection lost; reconnecting in {backoff:g} s)", err=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            else:
                backoff = 0.5

    async def session(self, token: str) -> int | str | None:
        """One connection; returns "done", or the close code when it ended."""
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as http, http.ws_connect(
                self.url, headers=headers, heartbeat=30) as ws:
            for text in self.filters:
                await ws.send_json({"type": "subscribe", "filter": text})
            self.acks_pending = len(self.filters) + (self.since is not None)
            if self.since is not None:
                # last, so that the one read-back covers every filter; what it repeats
                # of the live notifications meanwhile is skipped below
                await ws.send_json({"type": "subscribe", "filter": self.filters[0],
                                    "since": self.since})
            async for frame in ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    break
                data = json.loads(frame.data)
                if self.handle(data) == "done":
                    return "done"
                if data.get("type") == "resync":  # read the gap back, then go on in order
                    self.acks_pending += 1
                    await ws.send_json({"type": "subscribe", "filter": self.filters[0],
                                        "since": data["sequence"]})
            return ws.close_code

    def handle(self, frame: dict[str, Any]) -> str | None:
        kind = frame.get("type")
        if kind == "error":
            raise CliError(f"the notifier refused: {frame.get('message')}")
        if kind == "resync":
            click.echo(f"(fell behind: {frame.get('dropped')} notifications dropped after "
                       f"sequence {frame.get('sequence')}; reading them back)", err=True)
            return None
        if kind == "subscribed":
            self.acks_pending -= 1
            return None
        if kind == "welcome" and self.since is None:
            self.since = int(frame.get("sequence") or 0)  # a reconnect reads back from here
            return None
        if kind != "notification" or (self.acks_pending > 0 and self.since is not None):
            return None
        sequence = int(frame["sequence"])
        if sequence in self.seen:
            return None
        self.seen.add(sequence)
        if len(self.seen) > SEEN_LIMIT:
            self.seen = set(sorted(self.seen)[-SEEN_LIMIT // 2:])
        self.since = max(self.since or 0, sequence)
        self.print(frame)
        self.printed += 1
        return "done" if self.count is not None and self.printed >= self.count else None

    def print(self, frame: dict[str, Any]) -> None:
        if self.output == "json":
            click.echo(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
        elif self.output == "yaml":
            click.echo("---\n" + yaml.safe_dump(frame, sort_keys=False, allow_unicode=True),
                       nl=False)
        else:
            click.echo(line(frame))
        sys.stdout.flush()


def line(frame: dict[str, Any]) -> str:
    """One notification for people: time, sequence, type, entity and what changed."""
    payload = frame.get("payload") or {}
    what = ""
    if "old_status" in payload:
        what = f"{payload['old_status']} -> {payload.get('status')}"
    elif "status" in payload:
        what = str(payload["status"])
    elif "event_type" in payload:
        what = str(payload["event_type"])
    subject = (payload.get("action_ref") or payload.get("rule_ref")
               or payload.get("trigger_ref") or "")
    timestamp = str(frame.get("timestamp", ""))[:23]
    entity = f"{frame.get('entity_type')} {frame.get('entity_id')}"
    return (f"{timestamp}  #{frame.get('sequence'):<7} {frame.get('notification_type'):<28} "
            f"{entity:<18} {what:<24} {subject}").rstrip()
