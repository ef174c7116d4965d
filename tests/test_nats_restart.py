"""Services ride out a NATS restart: clients reconnect, consumers resume, nothing is lost."""

from __future__ import annotations

import asyncio

from attune.app import executions
from attune.embedded.nats_server import NatsServer
from attune.eventstore.envelope import Meta
from tests.conftest import eventually, start_platform, stop_platform


async def test_pipeline_survives_nats_restart(ctx, nats_server: NatsServer) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        async def status(eid: int):  # type: ignore[no-untyped-def]
            return await ctx.pool.fetchval("SELECT status FROM executions WHERE id=$1", eid)

        first = await executions.request(ctx, "core.echo", {"message": "before"},
                                         meta=Meta.new())
        await eventually(lambda: _is(status(first), "completed"))

        nats_server.stop()
        await asyncio.sleep(1.0)
        nats_server.start()
        await eventually(lambda: _connected(ctx))

        second = await executions.request(ctx, "core.echo", {"message": "after"},
                                          meta=Meta.new())
        await eventually(lambda: _is(status(second), "completed"), timeout=30)
        result = await ctx.pool.fetchval("SELECT result FROM executions WHERE id=$1", second)
        assert result["stdout"] == "after\n"
        assert await ctx.pool.fetchval("SELECT count(*) FROM executions") == 2
    finally:
        await stop_platform(running)


async def _is(value, expected: str) -> bool:  # type: ignore[no-untyped-def]
    return (await value) == expected


async def _connected(ctx) -> bool:  # type: ignore[no-untyped-def]
    return bool(ctx.nc.is_connected)
