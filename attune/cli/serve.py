"""`attune serve SERVICE...`: chosen services alone, against external NATS and
PostgreSQL (ops/ has systemd units and a compose file that run them this way).

Run more processes to scale out: durable pull consumers share the work.
"""

from __future__ import annotations

import asyncio

import click

import attune.log as log
from attune.app.context import Context
from attune.app.identities import ADMIN_LOGIN
from attune.cli.lifecycle import (
    LOG_FORMATS,
    LOG_LEVELS,
    attune_errors,
    configure_logging,
    run_until_signalled,
    unless_stopped,
)
from attune.cli.output import CliError
from attune.config import Settings, from_env
from attune.errors import ConflictError
from attune.platform import SERVICES, close_context, open_context, run_services, seed

REQUIRED_ENV = ("ATTUNE_NATS_URL", "ATTUNE_DATABASE_URL", "ATTUNE_JWT_SECRET",
                "ATTUNE_ENCRYPTION_KEY")

_log = log.get("serve")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("services", nargs=-1, required=True, type=click.Choice(SERVICES),
                metavar="SERVICE...")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), default="info",
              envvar="ATTUNE_LOG_LEVEL", show_default=True, show_envvar=True)
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="json",
              envvar="ATTUNE_LOG_FORMAT", show_default=True, show_envvar=True)
def serve(services: tuple[str, ...], log_level: str, log_format: str) -> None:
    """Run SERVICE (api, executor, worker, projector, sensor; several may be named) against
    external servers.

    \b
    Needs, from the environment:
      ATTUNE_NATS_URL        NATS >= 2.12 with JetStream, e.g. nats://nats:4222
      ATTUNE_DATABASE_URL    PostgreSQL >= 15, e.g. postgresql://attune:pw@db/attune
      ATTUNE_JWT_SECRET      >= 32 characters, the same for every process
      ATTUNE_ENCRYPTION_KEY  >= 32 characters, the same for every process
    The api service also registers the core pack and, on the first start, creates the
    user `admin` with the password in ATTUNE_ADMIN_PASSWORD.
    """
    with attune_errors():
        settings = from_env().with_(log_level=log_level, log_format=log_format)
        missing = [name for name, value in zip(REQUIRED_ENV, (
            settings.nats_url, settings.database_url, settings.jwt_secret,
            settings.encryption_key), strict=True) if not value]
        if missing:
            raise CliError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                           "not set: `attune serve` runs against external NATS and "
                           "PostgreSQL and needs " + ", ".join(REQUIRED_ENV)
                           + " (for everything on one machine use `attune up`)")
        settings.check_secrets()
        configure_logging(settings)
        names = tuple(dict.fromkeys(services))  # keep order, drop repeats
        run_until_signalled(lambda stop: _serve(settings, names, stop))


async def _serve(settings: Settings, names: tuple[str, ...], stop: asyncio.Event) -> None:
    ctx = await unless_stopped(open_context(settings, name=f"attune-{'+'.join(names)}"), stop)
    if ctx is None:
        return  # stopped while waiting for the servers
    try:
        if "api" in names:
            await _seed(settings, ctx)
        await run_services(ctx, names, stop)
    finally:
        await close_context(ctx)


async def _seed(settings: Settings, ctx: Context) -> None:
    try:
        created = await seed(ctx, admin_password=settings.admin_password)
    except ConflictError:
        # another api replica seeded at the same moment: what it wrote is the same
        _log.info("seed.skipped", reason="seeded concurrently by another process")
        return
    if created:
        _log.info("admin.created", login=ADMIN_LOGIN)
        return
    _, version = await ctx.store.load("identity", ADMIN_LOGIN)
    if not version:
        _log.warning("admin.missing", hint="set ATTUNE_ADMIN_PASSWORD and restart the api "
                     "service to create the user admin")
