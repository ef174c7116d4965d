"""Bootstrapping and running services in one process.

`attune up` and `attune serve <service>` both come here, as do the integration
tests: connect, apply the declared streams, migrate the read models, then run
the chosen services until `stop` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import attune.log as log
from attune.app import identities, packs
from attune.app.context import Context
from attune.config import Settings
from attune.errors import BadRequestError
from attune.eventstore import declarations
from attune.eventstore.connection import connect
from attune.eventstore.envelope import Meta
from attune.paths import packs_dir
from attune.readmodel import db

SERVICES = ("api", "executor", "worker", "projector", "sensor", "notifier")
Runner = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
_log = log.get("platform")


async def open_context(settings: Settings, *, name: str = "attune") -> Context:
    """Connect to NATS and PostgreSQL, apply streams and read-model migrations."""
    if not settings.nats_url or not settings.database_url:
        raise BadRequestError("ATTUNE_NATS_URL and ATTUNE_DATABASE_URL must be set "
                              "(or use `attune up` for the embedded default)")
    settings.check_secrets()
    nc = await connect(settings.nats_url, name=name)
    try:
        await declarations.apply(nc.jetstream())
        pool = await db.create_pool(settings.database_url)
    except BaseException:
        await nc.close()
        raise
    async with pool.acquire() as conn:
        await db.migrate(conn)
    return Context.build(settings, nc, pool)


async def close_context(ctx: Context) -> None:
    with contextlib.suppress(Exception):
        await ctx.pool.close()
    with contextlib.suppress(Exception):
        await ctx.nc.drain()


async def seed(ctx: Context, *, admin_password: str | None) -> bool:
    """Register the core pack and create the admin on first start. Returns True when
    the admin was created now (so the caller shows the password once)."""
    await packs.register(ctx, core_pack_dir(), meta=Meta.new(actor="system"))
    if admin_password is None:
        return False
    return await identities.ensure_admin(ctx, admin_password)


def service_runners(ctx: Context, names: Sequence[str]
                    ) -> list[Runner]:
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise BadRequestError(f"unknown service {unknown[0]!r} (known: {', '.join(SERVICES)})")
    runners: list[Runner] = []
    if "projector" in names:
        from attune.readmodel.projections import ALL
        from attune.readmodel.projector import Projector
        runners.append(Projector(ctx.nc, ctx.pool, ALL).run)
        from attune.app.audit import AuditRecorder  # API request records (ATTUNE_AUDIT)
        runners.append(AuditRecorder(ctx.nc, ctx.pool).run)
    if "executor" in names:
        from attune.executor.service import Executor
        runners.append(Executor(ctx).run)
        from attune.app.artifacts import sweep  # artifact retention by age
        runners.append(lambda stop: sweep(ctx, stop))
    if "worker" in names:
        from attune.worker.service import Worker
        runners.append(Worker(ctx).run)
    if "sensor" in names:
        from attune.sensor.managed import SensorManager
        from attune.sensor.service import TimerSensor
        runners.append(TimerSensor(ctx).run)
        runners.append(SensorManager(ctx).run)
    if "api" in names:
        from attune.api.server import serve
        runners.append(lambda stop: serve(ctx, stop))
    if "notifier" in names:
        from attune.notifier.service import Notifier
        runners.append(Notifier(ctx).run)
    return runners


async def run_services(ctx: Context, names: Sequence[str], stop: asyncio.Event) -> None:
    """Run services until `stop` is set; if one fails, stop the others and re-raise."""
    tasks: list[asyncio.Task[None]] = [asyncio.create_task(r(stop))
                                       for r in service_runners(ctx, names)]
    _log.info("services.started", services=list(names))
    try:
        done, _ = await asyncio.wait(
            [*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task in tasks and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        _log.info("services.stopped", services=list(names))


def core_pack_dir() -> Path:
    return packs_dir() / "core"
