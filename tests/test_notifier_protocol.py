"""The notifier's protocol edges against a real notifier: who may connect, bad frames,
filters a caller may not use, and a slow client's bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from attune.app.context import Context
from attune.bench.notifier_clients import connect as raw_connect
from attune.notifier.notification import Notification
from attune.notifier.service import Notifier
from tests.conftest import RunningPlatform, eventually, start_platform, stop_platform
from tests.notifier_client import admin_token, connect, notifier_up, ws_url


@pytest.fixture
async def notifier(ctx: Context) -> AsyncIterator[Notifier]:
    """The projector (for identities) and a notifier of this test, with a queue of 3."""
    running: RunningPlatform = await start_platform(ctx, ("projector",))
    service = Notifier(ctx, queue_limit=3)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await notifier_up(ctx.settings)
        await service.hub.started.wait()
        yield service
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await stop_platform(running)


async def _refused(ctx: Context, *, headers: dict[str, str] | None = None,
                   protocols: tuple[str, ...] = (), query: str = "") -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            async with session.ws_connect(ws_url(ctx.settings) + query, headers=headers,
                                          protocols=protocols):
                pass
        async with session.get(ws_url(ctx.settings).replace("ws://", "http://") + query,
                               headers={**(headers or {}), "Connection": "Upgrade",
                                        "Upgrade": "websocket",
                                        "Sec-WebSocket-Version": "13",
                                        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                        **({"Sec-WebSocket-Protocol": ", ".join(protocols)}
                                           if protocols else {})}) as r:
            body = await r.json()
    return caught.value.status, str(body["error"])


async def test_who_may_connect(ctx: Context, notifier: Notifier) -> None:
    access = await admin_token(ctx)
    refresh = await admin_token(ctx, token_type="refresh")
    status, message = await _refused(ctx)
    assert status == 401 and "Authorization: Bearer" in message
    status, message = await _refused(ctx, headers={"Authorization": f"Bearer {refresh}"})
    assert status == 401 and "refresh" in message
    status, message = await _refused(ctx, query=f"?token={access}")
    assert status == 401 and "query string" in message
    status, message = await _refused(ctx, headers={"Authorization": "Bearer not-a-jwt"})
    assert status == 401 and "invalid token" in message
    status, message = await _refused(ctx, protocols=(f"attune.jwt.{access}",))
    assert status == 401 and "attune.v1" in message
    async with connect(ctx.settings, access, via_protocol=True) as client:
        assert client.ws.protocol == "attune.v1"
        assert (await client.next())["type"] == "welcome"


async def test_bad_frames_get_error_frames_and_the_socket_stays_open(
        ctx: Context, notifier: Notifier) -> None:
    async with connect(ctx.settings, await admin_token(ctx)) as client:
        await client.next_of("welcome")
        await client.ws.send_str("not json")
        assert "JSON object" in (await client.next_of("error"))["message"]
        await client.ws.send_str("[1, 2]")
        assert "\"type\"" in (await client.next_of("error"))["message"]
        await client.send(type="shout")
        assert "unknown message type 'shout'" in (await client.next_of("error"))["message"]
        await client.send(type="subscribe", filter="entity_type:spaceship")
        error = await client.next_of("error")
        assert "unknown entity type 'spaceship'" in error["message"]
        assert error["filter"] == "entity_type:spaceship"
        await client.send(type="subscribe", filter="whatever")
        assert "use one of: all" in (await client.next_of("error"))["message"]
        await client.send(type="subscribe", filter="entity:execution:abc")
        assert "must be a number" in (await client.next_of("error"))["message"]
        await client.send(type="subscribe", filter="all", since=-4)
        assert "since must be" in (await client.next_of("error"))["message"]
        await client.send(type="unsubscribe", filter="all")
        assert "not subscribed" in (await client.next_of("error"))["message"]
        await client.ws.send_bytes(b"\x00\x01")
        assert "binary frames" in (await client.next_of("error"))["message"]
        await client.send(type="ping")
        assert (await client.next())["type"] == "pong"
        assert not client.ws.closed


def _fake(sequence: int, *, big: bool = False) -> Notification:
    # ~7 kB, just under the size above which payloads go out compact
    payload: dict[str, object] = {f"field{i}": "x" * 190 for i in range(34)} if big else {}
    return Notification(notification_type="execution_created", entity_type="execution",
                        entity_id=sequence, payload={"id": sequence, **payload},
                        timestamp=datetime.now(UTC), sequence=sequence,
                        resource="executions")


async def test_a_client_that_stops_reading_gets_resync_and_stays_usable(
        ctx: Context, notifier: Notifier) -> None:
    token = await admin_token(ctx)
    got: dict[str, list[int]] = {"slow": [], "fast": []}
    slow = await raw_connect("127.0.0.1", ctx.settings.notifier_port, token,
                             lambda seq, _: got["slow"].append(seq))
    fast = await raw_connect("127.0.0.1", ctx.settings.notifier_port, token,
                             lambda seq, _: got["fast"].append(seq))
    try:
        for client in (slow, fast):
            client.send_text({"type": "subscribe", "filter": "entity_type:execution"})
            await client.next_control("subscribed")
        slow_connection = next(c for c in notifier.connections if c.client_id == "client_1")
        assert slow.transport is not None
        slow.transport.pause_reading()  # stops reading: its buffers fill, then its queue
        fast_connection = next(c for c in notifier.connections if c.client_id == "client_2")
        base = notifier.hub.position + 1000
        sent: list[int] = []
        while not slow_connection.dropped and len(sent) < 50_000:
            sent.append(base + len(sent))
            notifier.hub.fan_out(_fake(sent[-1], big=True))
            if len(sent) % 10 == 0:  # the fast one reads what it got meanwhile
                while (fast_connection.queue
                       or fast_connection.transport.get_write_buffer_size()):
                    await asyncio.sleep(0.002)
        for _ in range(2):  # what comes after the gap
            sent.append(base + len(sent))
            notifier.hub.fan_out(_fake(sent[-1], big=True))
        await eventually(lambda: _ends_with(got["fast"], sent[-1]))
        assert got["fast"] == sent  # the other client lost nothing and waited for nothing
        slow.transport.resume_reading()
        await eventually(lambda: _ends_with(got["slow"], sent[-1]))
        assert got["slow"] == sorted(set(got["slow"]))  # in order, nothing twice
        missing = set(sent) - set(got["slow"])
        resyncs = [await slow.next_control("resync")]
        while not slow.control.empty():
            frame = slow.control.get_nowait()
            if frame["type"] == "resync":
                resyncs.append(frame)
        # each says where its gap starts; together they count every dropped one
        assert missing and sum(r["dropped"] for r in resyncs) == len(missing)
        for resync in resyncs:
            assert resync["sequence"] in (0, *got["slow"])
            assert max(resync["sequence"] + 1, sent[0]) in missing
        # still usable: answers pings and receives what comes next
        slow.send_text({"type": "ping"})
        await slow.next_control("pong")
        notifier.hub.fan_out(_fake(sent[-1] + 1))
        await eventually(lambda: _ends_with(got["slow"], sent[-1] + 1))
    finally:
        slow.close()
        fast.close()


async def _ends_with(values: list[int], last: int) -> bool:
    return bool(values) and values[-1] == last


async def test_sensor_tokens_may_only_watch_their_triggers(ctx: Context,
                                                           notifier: Notifier) -> None:
    admin = await admin_token(ctx)
    async with connect(ctx.settings, admin) as client:
        await client.next_of("welcome")
    identity_id = int(__import__("jwt").decode(admin, options={"verify_signature": False})
                      ["sub"])
    sensor = ctx.tokens.issue(identity_id, "admin", "sensor",
                              metadata={"trigger_types": ["core.intervaltimer"]})
    async with connect(ctx.settings, sensor) as client:
        await client.next_of("welcome")
        await client.send(type="subscribe", filter="all")
        assert "only subscribe to trigger_ref" in (await client.next_of("error"))["message"]
        await client.send(type="subscribe", filter="trigger_ref:core.crontimer")
        error = await client.next_of("error")
        assert "not for trigger 'core.crontimer'" in error["message"]
        assert "core.intervaltimer" in error["message"]
