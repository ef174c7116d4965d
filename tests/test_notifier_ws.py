"""The notifier end to end: real NATS, PostgreSQL, executor, worker and notifier; a
WebSocket client subscribes, watches executions, disconnects, misses some and reads them
back with `since`."""

from __future__ import annotations

from typing import Any

from attune.app import executions
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from tests.conftest import eventually, start_platform, stop_platform
from tests.notifier_client import WsClient, admin_token, connect, notifier_up

SERVICES = ("executor", "worker", "projector", "notifier")


def _ended(execution_id: int):  # type: ignore[no-untyped-def]
    def done(frame: dict[str, Any]) -> bool:
        return (frame["entity_id"] == execution_id
                and frame["notification_type"] == "execution_status_changed"
                and frame["payload"]["status"] in ("completed", "failed"))
    return done


async def _run_echo(ctx: Context, message: str) -> int:
    return await executions.request(ctx, "core.echo", {"message": message}, meta=Meta.new())


async def _stream_execution_events(ctx: Context, after: int) -> list[tuple[int, str]]:
    """(sequence, type) of every execution event in the stream after `after`."""
    last = await ctx.store.last_sequence()
    found = []
    for seq in range(after + 1, last + 1):
        envelope = await ctx.store.read(seq)
        if envelope is not None and envelope.event.type.startswith("execution."):
            found.append((seq, envelope.event.type))
    return found


async def _core_loaded(ctx: Context) -> None:
    async def probe() -> int:
        return int(await ctx.pool.fetchval(
            "SELECT count(*) FROM actions WHERE ref = 'core.echo'"))
    await eventually(probe)


async def test_status_changes_live_then_missed_ones_read_back_with_since(ctx: Context) -> None:
    running = await start_platform(ctx, SERVICES)
    try:
        await notifier_up(ctx.settings)
        await _core_loaded(ctx)
        token = await admin_token(ctx)
        async with connect(ctx.settings, token) as client:
            welcome = await client.next()
            assert welcome["type"] == "welcome"
            assert welcome["client_id"].startswith("client_")
            assert welcome["message"] == "Connected to Attune Notifier"
            await client.subscribe("entity_type:execution")
            first = await _run_echo(ctx, "one")
            got = await client.notifications_until(_ended(first))
        mine = [f for f in got if f["entity_id"] == first]
        assert [f["notification_type"] for f in mine] == [
            "execution_created", "execution_status_changed", "execution_status_changed",
            "execution_status_changed"]
        assert [(f["payload"].get("old_status"), f["payload"]["status"]) for f in mine] == [
            (None, "requested"), ("requested", "scheduled"), ("scheduled", "running"),
            ("running", "completed")]
        for frame in mine:
            assert frame["type"] == "notification"
            assert frame["entity_type"] == "execution"
            assert frame["payload"]["action_ref"] == "core.echo"
            assert frame["timestamp"]
            assert set(frame) == {"type", "notification_type", "entity_type", "entity_id",
                                  "user_id", "payload", "timestamp", "sequence"}
        sequences = [f["sequence"] for f in got]
        assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
        since = sequences[-1]

        # away: two executions run to their end while nobody listens
        missed = [await _run_echo(ctx, "two"), await _run_echo(ctx, "three")]
        async def ended() -> bool:
            rows = await ctx.pool.fetch("SELECT status FROM executions WHERE id = ANY($1)",
                                        missed)
            return len(rows) == 2 and all(r["status"] == "completed" for r in rows)
        await eventually(ended)
        expected = await _stream_execution_events(ctx, since)

        async with connect(ctx.settings, token) as client:
            await client.next_of("welcome")
            ack = await client.subscribe("entity_type:execution", since=since)
            assert ack["sequence"] >= expected[-1][0]
            replayed = await client.notifications_until(_ended(missed[1]))
            assert [f["sequence"] for f in replayed] == [seq for seq, _ in expected]
            assert {f["entity_id"] for f in replayed} == set(missed)
            by_id = {i: [f["payload"]["status"] for f in replayed if f["entity_id"] == i]
                     for i in missed}
            assert by_id == {i: ["requested", "scheduled", "running", "completed"]
                             for i in missed}
            # then live, with neither gap nor repeat
            live = await _run_echo(ctx, "four")
            after = await client.notifications_until(_ended(live))
            assert [f["entity_id"] for f in after] == [live] * 4
            assert after[0]["sequence"] > replayed[-1]["sequence"]
    finally:
        await stop_platform(running)


async def test_filters_entity_and_notification_type(ctx: Context) -> None:
    running = await start_platform(ctx, SERVICES)
    try:
        await notifier_up(ctx.settings)
        await _core_loaded(ctx)
        token = await admin_token(ctx)
        async with connect(ctx.settings, token, via_protocol=True) as client:
            assert client.ws.protocol == "attune.v1"
            await client.next_of("welcome")
            await client.subscribe("notification_type:execution_created")
            first = await _run_echo(ctx, "a")
            created = await client.next_of("notification")
            assert (created["notification_type"], created["entity_id"]) == (
                "execution_created", first)
            await client.send(type="unsubscribe", filter="notification_type:execution_created")
            assert (await client.next_of("unsubscribed"))["filter"] == (
                "notification_type:execution_created")
            second = await _run_echo(ctx, "b")
            await client.subscribe(f"entity:execution:{second}")
            frames = await client.notifications_until(_ended(second))
            assert {f["entity_id"] for f in frames} == {second}  # nothing about `first`
            await client.send(type="ping")
            assert (await client.next_of("pong"))["type"] == "pong"
    finally:
        await stop_platform(running)


async def _closed_with(client: WsClient, timeout: float = 15.0) -> int | None:
    import aiohttp
    while True:
        message = await client.ws.receive(timeout=timeout)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.CLOSING):
            return client.ws.close_code


async def test_expired_token_closes_with_4401(ctx: Context) -> None:
    running = await start_platform(ctx, ("projector", "notifier"))
    try:
        await notifier_up(ctx.settings)
        token = await admin_token(ctx, ttl=2)
        async with connect(ctx.settings, token) as client:
            await client.next_of("welcome")
            await client.subscribe("all")
            assert await _closed_with(client) == 4401
    finally:
        await stop_platform(running)
