"""`attune up`: the whole platform on this machine, in one command.

Starts NATS (JetStream) and PostgreSQL as child processes with their data under one
data directory, then every service (api, executor, worker, projector, sensor, notifier)
in this process.
With ATTUNE_NATS_URL and ATTUNE_DATABASE_URL set, nothing is embedded: the services
run against those servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import click

import attune.log as log
from attune.cli.config import DEFAULT_API_URL
from attune.cli.lifecycle import (
    LOG_FORMATS,
    LOG_LEVELS,
    attune_errors,
    configure_logging,
    run_until_signalled,
    signals_interrupt,
    unless_stopped,
)
from attune.cli.output import CliError, console
from attune.config import Settings, default_data_dir, from_env
from attune.embedded.datadir import DataDir
from attune.embedded.stack import EmbeddedStack, check_sync_interval
from attune.errors import PackError, ValidationError
from attune.platform import SERVICES, close_context, open_context, run_services, seed

_PORT = click.IntRange(1, 65535)
F = TypeVar("F", bound=Callable[..., Any])
_log = log.get("up")


def _port_option(name: str, default: int, what: str) -> Callable[[F], F]:
    env = "ATTUNE_" + name.upper().replace("-", "_")
    return click.option(f"--{name}", type=_PORT, default=default, envvar=env,
                        show_default=True, show_envvar=True, help=f"Loopback port of {what}.")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="ATTUNE_DATA_DIR", show_envvar=True, default=None,
              help=f"Where NATS, PostgreSQL and the kept secrets store their data "
                   f"[default: {default_data_dir()}].")
@click.option("--sync-interval", default="1s", envvar="ATTUNE_NATS_SYNC_INTERVAL",
              show_default=True, show_envvar=True,
              help="How often JetStream fsyncs its files: a duration (500ms, 1s) or "
                   "'always' (every write). A crash of the process loses nothing either "
                   "way; with 1s a power loss can lose the last second.")
@_port_option("api-port", 8080, "the HTTP API")
@_port_option("notifier-port", 8081, "the WebSocket notifier (GET /ws)")
@_port_option("nats-port", 4222, "the embedded NATS server")
@_port_option("nats-monitor-port", 8222, "the embedded NATS server's monitoring endpoint")
@_port_option("postgres-port", 5432, "the embedded PostgreSQL server")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), default="info",
              envvar="ATTUNE_LOG_LEVEL", show_default=True, show_envvar=True)
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="json",
              envvar="ATTUNE_LOG_FORMAT", show_default=True, show_envvar=True,
              help="Logs on stderr: JSON lines, or `console` for people.")
def up(data_dir: Path | None, sync_interval: str, log_level: str, log_format: str,
       api_port: int, notifier_port: int, nats_port: int, nats_monitor_port: int,
       postgres_port: int) -> None:
    """Start Attune on this machine: NATS, PostgreSQL and every service.

    Data (events, read models, generated secrets) lives in the data directory, so a
    restart keeps everything. Ctrl-C stops it all cleanly. The first start creates the
    user `admin` with the password from ATTUNE_ADMIN_PASSWORD, or a generated one that
    is printed once.
    """
    with attune_errors():
        env = from_env()
        settings = env.with_(
            data_dir=(data_dir or env.data_dir).expanduser().resolve(),
            api_port=api_port, notifier_port=notifier_port, nats_port=nats_port,
            postgres_port=postgres_port, nats_sync_interval=check_sync_interval(sync_interval),
            log_level=log_level, log_format=log_format)
        configure_logging(settings)
        data = DataDir(settings.data_dir)
        data.create()
        settings = settings.with_(
            jwt_secret=settings.jwt_secret or data.secret("jwt_secret"),
            encryption_key=settings.encryption_key or data.secret("encryption_key"),
            previous_encryption_keys=(settings.previous_encryption_keys
                                      or data.previous_secrets("encryption_key")))
        settings.check_secrets()
        if settings.nats_url or settings.database_url:
            _run_external(settings)
        else:
            _run_embedded(settings, data, nats_monitor_port)


def _run_external(settings: Settings) -> None:
    missing = [name for name, value in (("ATTUNE_NATS_URL", settings.nats_url),
                                        ("ATTUNE_DATABASE_URL", settings.database_url))
               if not value]
    if missing:
        raise CliError(f"{missing[0]} is not set: with external servers both "
                       "ATTUNE_NATS_URL and ATTUNE_DATABASE_URL are needed (unset both "
                       "to embed NATS and PostgreSQL)")
    run_until_signalled(lambda stop: _platform(settings, None, stop))


def _run_embedded(settings: Settings, data: DataDir, nats_monitor_port: int) -> None:
    stack = EmbeddedStack(
        data, nats_port=settings.nats_port, nats_monitor_port=nats_monitor_port,
        postgres_port=settings.postgres_port, sync_interval=settings.nats_sync_interval,
        service_ports={"api-port": settings.api_port,
                       "notifier-port": settings.notifier_port})
    with data.locked(), signals_interrupt():
        try:
            stack.start()
            settings = settings.with_(nats_url=stack.nats_url,
                                      database_url=stack.database_url)
            run_until_signalled(lambda stop: _platform(settings, stack, stop))
        except KeyboardInterrupt:
            _log.info("up.interrupted_while_starting")
        finally:
            stack.stop()
            _log.info("up.stopped")


async def _platform(settings: Settings, stack: EmbeddedStack | None,
                    stop: asyncio.Event) -> None:
    if stack is not None:
        await stack.ensure_database()
    ctx = await unless_stopped(open_context(settings), stop)
    if ctx is None:
        return  # stopped while waiting for the servers
    try:
        password = settings.admin_password or secrets.token_urlsafe(12)
        try:
            created = await seed(ctx, admin_password=password)
        except ValidationError as exc:
            if isinstance(exc, PackError):  # the core pack itself, not the password
                raise
            raise CliError(f"ATTUNE_ADMIN_PASSWORD is not usable: {exc.message}") from None
        shown = password if created and settings.admin_password is None else None
        _banner(settings, stack, admin_created=created, generated_password=shown)
        services = asyncio.create_task(run_services(ctx, SERVICES, stop))
        ready = asyncio.create_task(_announce_ready(settings, stop))
        try:
            await services
        finally:
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ready
    finally:
        await close_context(ctx)


def _banner(settings: Settings, stack: EmbeddedStack | None, *, admin_created: bool,
            generated_password: str | None) -> None:
    out = console()
    version = importlib.metadata.version("attune")
    where = "embedded" if stack is not None else "external"
    sync = f", fsync {settings.nats_sync_interval}" if stack is not None else ""
    out.print(f"[bold]Attune {version}[/bold] is starting")
    rows = [
        ("API", settings.public_api_url),
        ("Notifier", settings.public_notifier_url),
        ("NATS", f"{settings.nats_url} ({where}{sync})"),
        ("PostgreSQL", f"{_without_password(settings.database_url or '')} ({where})"),
        ("Data", str(settings.data_dir)),
        ("Admin login", "admin"),
    ]
    if generated_password is not None:
        rows.append(("Password", f"{generated_password}   (generated: shown only this once)"))
    elif admin_created:
        rows.append(("Password", "from ATTUNE_ADMIN_PASSWORD"))
    else:
        rows.append(("Password", "as set on the first start"))
    for name, value in rows:
        out.print(f"  {name:<13}{value}", markup=False)
    login = "attune login"
    if settings.public_api_url != DEFAULT_API_URL:
        login += f" --api-url {settings.public_api_url}"
    out.print(f"Next: [bold]{login}[/bold], then "
              "[bold]attune run core.echo message=hi --watch[/bold]. Ctrl-C stops Attune.")


def _without_password(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    userinfo, host = rest.rsplit("@", 1)
    return f"{scheme}://{userinfo.split(':', 1)[0]}@{host}"


async def _announce_ready(settings: Settings, stop: asyncio.Event) -> None:
    """Print one line once the API answers /health/ready."""
    url = f"http://127.0.0.1:{settings.api_port}/health/ready"
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url) as resp:
                    if resp.status == 200:
                        console().print(f"Ready at {settings.public_api_url} "
                                        f"(pid {os.getpid()})", markup=False)
                        return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
