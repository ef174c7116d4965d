"""A WebSocket client of the notifier for the tests (tests/test_notifier_*.py): aiohttp
against a real notifier, frames as dicts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from attune.app import identities
from attune.app.context import Context
from attune.config import Settings
from tests.conftest import ADMIN_PASSWORD, eventually


def ws_url(settings: Settings) -> str:
    return f"ws://127.0.0.1:{settings.notifier_port}/ws"


async def admin_token(ctx: Context, *, ttl: int | None = None,
                      token_type: str = "access") -> str:
    admin = await eventually(lambda: _admin(ctx))
    return ctx.tokens.issue(admin.id, admin.login, token_type, ttl=ttl)  # type: ignore[arg-type]


async def _admin(ctx: Context) -> identities.Identity | None:
    try:
        return await identities.authenticate(ctx, "admin", ADMIN_PASSWORD)
    except Exception:
        return None


async def notifier_up(settings: Settings) -> None:
    async def probe() -> bool:
        try:
            async with aiohttp.ClientSession() as session, session.get(
                    f"http://127.0.0.1:{settings.notifier_port}/health") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False
    await eventually(probe)


class WsClient:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, **message: Any) -> None:
        await self.ws.send_str(json.dumps(message))

    async def next(self, timeout: float = 15.0) -> dict[str, Any]:
        message = await self.ws.receive(timeout=timeout)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"expected a text frame, got {message.type!r} "
                                 f"{message.data!r} {message.extra!r}")
        frame: dict[str, Any] = json.loads(message.data)
        return frame

    async def next_of(self, kind: str, timeout: float = 15.0) -> dict[str, Any]:
        """The next frame of type `kind`, skipping others."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            frame = await self.next(max(left, 0.01))
            if frame["type"] == kind:
                return frame

    async def subscribe(self, filter: str, **extra: Any) -> dict[str, Any]:
        await self.send(type="subscribe", filter=filter, **extra)
        return await self.next_of("subscribed")

    async def notifications_until(self, done: Callable[[dict[str, Any]], bool],
                                  timeout: float = 30.0) -> list[dict[str, Any]]:
        """Notifications received until one satisfies `done` (included)."""
        got: list[dict[str, Any]] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            frame = await self.next_of("notification", max(left, 0.01))
            got.append(frame)
            if done(frame):
                return got


@asynccontextmanager
async def connect(settings: Settings, token: str | None, *, via_protocol: bool = False,
                  query: str = "") -> AsyncIterator[WsClient]:
    headers = {}
    protocols: tuple[str, ...] = ()
    if token is not None and via_protocol:
        protocols = ("attune.v1", f"attune.jwt.{token}")
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as session, session.ws_connect(
            ws_url(settings) + query, headers=headers, protocols=protocols) as ws:
        yield WsClient(ws)
