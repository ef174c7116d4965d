"""The notifier rides out a NATS restart: its consumer resumes after the last message it
handled and connected clients go on receiving, without a gap."""

from __future__ import annotations

import asyncio

from attune.app import executions
from attune.app.context import Context
from attune.embedded.nats_server import NatsServer
from attune.eventstore.envelope import Meta
from tests.conftest import eventually, start_platform, stop_platform
from tests.notifier_client import admin_token, connect, notifier_up


async def test_clients_keep_receiving_across_a_nats_restart(ctx: Context,
                                                            nats_server: NatsServer) -> None:
    running = await start_platform(ctx, ("projector", "notifier"))
    try:
        await notifier_up(ctx.settings)
        await eventually(lambda: ctx.pool.fetchval(
            "SELECT count(*) FROM actions WHERE ref = 'core.noop'"))
        meta = Meta.new(actor="admin")
        async with connect(ctx.settings, await admin_token(ctx)) as client:
            await client.next_of("welcome")
            await client.subscribe("notification_type:execution_created")
            before = await executions.request(ctx, "core.noop", {}, meta=meta)
            assert (await client.next_of("notification"))["entity_id"] == before

            nats_server.stop()
            await asyncio.sleep(1.0)
            nats_server.start()

            async def connected() -> bool:
                return bool(ctx.nc.is_connected)
            await eventually(connected)
            after = [await executions.request(ctx, "core.noop", {}, meta=meta)
                     for _ in range(3)]
            got = [(await client.next_of("notification", timeout=30))["entity_id"]
                   for _ in range(3)]
            assert got == after
    finally:
        await stop_platform(running)
