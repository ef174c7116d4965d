"""`attune streams apply`: make the NATS server's streams, consumers and KV buckets
match `streams/streams.yaml` (every service also does this when it starts)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

import attune.log as log
from attune.cli.lifecycle import attune_errors
from attune.cli.output import CliError
from attune.eventstore import declarations
from attune.eventstore.connection import connect

CONNECT_SECONDS = 10.0


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def streams() -> None:
    """JetStream streams, consumers and KV buckets declared in streams/."""


@streams.command("apply")
@click.option("--nats-url", envvar="ATTUNE_NATS_URL", show_envvar=True, metavar="URL",
              help="The NATS server (>= 2.12, JetStream on).")
@click.option("--file", "path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="Declarations to apply [default: streams/streams.yaml].")
def apply(nats_url: str | None, path: Path | None) -> None:
    """Create what is missing and update what changed; prints each change.

    Running it again changes nothing. Nothing is ever deleted.
    """
    if not nats_url:
        raise CliError("no NATS server given: pass --nats-url or set ATTUNE_NATS_URL "
                       "(`attune up` applies the declarations itself)")
    log.configure("warning")  # the changes are printed below, not logged as well
    with attune_errors():
        try:
            decl = declarations.load(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CliError(f"cannot read the declarations: {exc}") from None
        changes = asyncio.run(_apply(nats_url, decl))
    for line in changes:
        click.echo(line)
    if not changes:
        click.echo("streams, consumers and KV buckets are up to date")


async def _apply(url: str, decl: declarations.Declarations) -> list[str]:
    try:
        # connect() waits for a server that is not up yet; a one-off command should not
        nc = await asyncio.wait_for(connect(url, name="attune-streams-apply"),
                                    CONNECT_SECONDS)
    except TimeoutError:
        raise CliError(f"cannot reach NATS at {url} within {CONNECT_SECONDS:g} s: is it "
                       "running, and is the URL right?") from None
    try:
        return await declarations.apply(nc.jetstream(), decl)
    finally:
        await nc.close()
