"""`attune bench pipeline`: raw JetStream against the manual-execution pipeline.

One run measures (a) what JetStream does on this machine (pipelined publishes with
acks, durable pull consume with acks) and (b) `core.noop` executions driven through
the HTTP API of a platform running in this process (api, executor, worker,
projector): executions/s at saturation and request->completed latency at a light
fixed rate. The ratio compares (b)'s JetStream appends per second (ATTUNE_EVENTS and
ATTUNE_WORK messages, counted on the streams) with (a)'s publish rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform as host
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import attune.log as log
from attune.app.context import Context
from attune.bench import raw
from attune.bench.load import ApiClient, CompletionWatcher, fixed_rate, saturate
from attune.bench.platform import bench_context, ready, services
from attune.bench.progress import Progress
from attune.bench.servers import BenchServers, bench_servers
from attune.errors import UnavailableError
from attune.eventstore.connection import connect
from attune.eventstore.store import EVENTS_STREAM
from attune.executor.service import WORK_STREAM
from attune.platform import SERVICES

_log = log.get("bench")


@dataclass(frozen=True)
class Options:
    executions: int = 1000
    concurrency: int = 64
    rate: float = 20.0
    duration: float = 10.0
    raw_messages: int = 20000
    worker_concurrency: int = 16
    nats_url: str | None = None
    database_url: str | None = None


@contextlib.asynccontextmanager
async def running_platform(servers: BenchServers, options: Options
                           ) -> AsyncIterator[tuple[Context, str]]:
    """Every service in this process on `servers`; yields the context and the admin
    password."""
    async with bench_context(servers, worker_concurrency=options.worker_concurrency) as (
            ctx, password), services(ctx, SERVICES) as running:
        await ready(ctx, running, api=True)
        yield ctx, password


async def _appended(ctx: Context) -> int:
    """Messages ever appended to ATTUNE_EVENTS and ATTUNE_WORK (last sequences: the work
    queue deletes acked messages, its sequence still counts them)."""
    total = 0
    for stream in (EVENTS_STREAM, WORK_STREAM):
        info = await ctx.store.js.stream_info(stream)
        total += int(info.state.last_seq)
    return total


async def _projected(ctx: Context, timeout: float = 120.0) -> float:
    """Seconds until the executions projection reaches the stream's end."""
    started = time.perf_counter()
    last = await ctx.store.last_sequence()
    while time.perf_counter() - started < timeout:
        position = await ctx.pool.fetchval(
            "SELECT position FROM projection_positions WHERE name = 'executions'")
        if position is not None and position >= last:
            return time.perf_counter() - started
        await asyncio.sleep(0.01)
    raise UnavailableError("the executions projection did not catch up")


async def run(options: Options, progress: Progress) -> dict[str, Any]:
    async with bench_servers(options.nats_url, options.database_url) as servers:
        # raw first, on its own connection, before any service runs
        nc = await connect(servers.nats_url, name="attune-bench-raw")
        try:
            raw_result = await raw.measure(nc, options.raw_messages, progress)
        finally:
            await nc.close()
        async with running_platform(servers, options) as (ctx, password):
            api = ApiClient(ctx.settings.public_api_url, connections=options.concurrency + 4)
            watcher = CompletionWatcher(ctx.nc)
            await watcher.start()
            try:
                await api.login("admin", password)
                before = await _appended(ctx)
                sat, _ = await saturate(api, watcher, executions=options.executions,
                                        concurrency=options.concurrency, progress=progress)
                appends = await _appended(ctx) - before
                visible_after = await _projected(ctx)
                lat = await fixed_rate(api, watcher, rate=options.rate,
                                       duration=options.duration, progress=progress)
            finally:
                await watcher.stop()
                await api.close()
    appends_per_s = appends / sat.seconds
    return {
        "machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                    "system": f"{host.system()} {host.machine()}"},
        "servers": {"durability": servers.durability},
        "platform": {"services": list(SERVICES), "worker_concurrency":
                     options.worker_concurrency, "action": "core.noop (shell)"},
        "raw_jetstream": {
            "messages": raw_result.messages, "payload_bytes": raw_result.payload_bytes,
            "publish_msgs_per_s": round(raw_result.publish_per_s, 1),
            "consume_msgs_per_s": round(raw_result.consume_per_s, 1)},
        "saturation": {
            "executions": sat.executions, "concurrency": sat.concurrency,
            "seconds": round(sat.seconds, 3), "executions_per_s": round(sat.per_s, 1),
            "outcomes": sat.outcomes, "appends": appends,
            "appends_per_execution": round(appends / sat.executions, 2),
            "appends_per_s": round(appends_per_s, 1),
            "projection_lag_after_last_s": round(visible_after, 3)},
        "latency": {
            "rate_per_s": lat.rate, "duration_s": lat.duration, "executions": len(lat.samples),
            "outcomes": lat.outcomes,
            "p50_ms": round(lat.p(50), 2), "p99_ms": round(lat.p(99), 2),
            "max_ms": round(1000 * lat.samples[-1], 2),
            "http_p50_ms": round(lat.p(50, lat.http), 2),
            "http_p99_ms": round(lat.p(99, lat.http), 2)},
        "ratio_appends_to_raw_publish": round(appends_per_s / raw_result.publish_per_s, 4),
    }
