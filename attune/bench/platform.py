"""A platform for benchmarks, in this process: a context on the bench's servers (core
pack and admin seeded), and sets of services started and stopped around each phase."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from attune.app.context import Context
from attune.bench.servers import BenchServers, free_port
from attune.config import Settings
from attune.errors import UnavailableError
from attune.platform import close_context, open_context, run_services, seed


@contextlib.asynccontextmanager
async def bench_context(servers: BenchServers, *, worker_concurrency: int
                        ) -> AsyncIterator[tuple[Context, str]]:
    """An opened, seeded context on `servers`; yields it and the admin password
    (ATTUNE_ADMIN_PASSWORD, else one made up for a fresh admin)."""
    env = os.environ.get
    password = env("ATTUNE_ADMIN_PASSWORD") or secrets.token_urlsafe(18)
    with tempfile.TemporaryDirectory(prefix="attune-bench-data-") as data_dir:
        settings = Settings(
            nats_url=servers.nats_url, database_url=servers.database_url,
            data_dir=Path(data_dir), api_port=free_port(), notifier_port=free_port(),
            jwt_secret=env("ATTUNE_JWT_SECRET") or secrets.token_urlsafe(48),
            encryption_key=env("ATTUNE_ENCRYPTION_KEY") or secrets.token_urlsafe(48),
            admin_password=password, worker_concurrency=worker_concurrency)
        ctx = await open_context(settings, name="attune-bench")
        try:
            await seed(ctx, admin_password=password)
            yield ctx, password
        finally:
            await close_context(ctx)


@contextlib.asynccontextmanager
async def services(ctx: Context, names: Sequence[str]) -> AsyncIterator[asyncio.Task[None]]:
    """`names` running in this process until the block ends; yields their task (done
    early only when one failed)."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_services(ctx, names, stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def ready(ctx: Context, running: asyncio.Task[None], *, api: bool,
                timeout: float = 30.0) -> None:
    """The core pack is projected (requests need its actions) and, with `api`, the API
    listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.done():
            running.result()  # a service failed to start: raise its error
        loaded = await ctx.pool.fetchval("SELECT count(*) FROM actions WHERE ref = 'core.noop'")
        if loaded:
            if not api:
                return
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", ctx.settings.api_port)
            except OSError:
                pass
            else:
                writer.close()
                return
        await asyncio.sleep(0.05)
    raise UnavailableError(f"the platform was not ready within {timeout:.0f} s")
