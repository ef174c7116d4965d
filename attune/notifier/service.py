"""The notifier service: the hub's consumer and an aiohttp server with `GET /ws` (and
`GET /health`) on the notifier port (ATTUNE_NOTIFIER_PORT, default 8081) of the API's
interface (ATTUNE_API_HOST: one setting says where Attune listens)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from aiohttp import web

import attune.log as log
from attune.api.errors import from_attune
from attune.app.context import Context
from attune.errors import AttuneError, UnavailableError
from attune.notifier.access import Access
from attune.notifier.auth import PROTOCOL, authenticate, check
from attune.notifier.connection import QUEUE_LIMIT, RECHECK_SECONDS, Connection
from attune.notifier.hub import Hub

_log = log.get("notifier")
#: Largest message a client may send (filters are short).
MAX_CLIENT_MESSAGE = 64 * 1024
HEARTBEAT_SECONDS = 30.0


class Notifier:
    def __init__(self, ctx: Context, *, port: int | None = None,
                 queue_limit: int = QUEUE_LIMIT,
                 recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.ctx = ctx
        self.host = ctx.settings.api_host
        self.port = ctx.settings.notifier_port if port is None else port
        self.queue_limit = queue_limit
        self.recheck_seconds = recheck_seconds
        self.hub = Hub(ctx.nc, ctx.store)
        self.connections: set[Connection] = set()
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return self.ctx.settings.with_(notifier_port=self.port).public_notifier_url

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ws", self.websocket)
        app.router.add_get("/health", self.health)
        return app

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "position": self.hub.position,
                                  "connections": len(self.connections),
                                  "delivered": self.hub.delivered})

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        try:
            caller = await authenticate(self.ctx, request)
        except AttuneError as exc:
            return from_attune(exc)
        ws = web.WebSocketResponse(protocols=(PROTOCOL,), compress=False,
                                   heartbeat=HEARTBEAT_SECONDS,
                                   max_msg_size=MAX_CLIENT_MESSAGE)
        await ws.prepare(request)
        async def recheck() -> Access:
            again = await check(self.ctx, caller.token)
            return Access(again.identity, again.claims)

        connection = Connection(ws, request.transport, self.hub, self.ctx.store,
                                Access(caller.identity, caller.claims),
                                f"client_{next(self._ids)}", recheck=recheck,
                                recheck_seconds=self.recheck_seconds,
                                queue_limit=self.queue_limit)
        self.connections.add(connection)
        _log.info("notifier.connected", client_id=connection.client_id,
                  login=caller.identity.login, token_type=caller.claims.token_type)
        try:
            await connection.serve()
        finally:
            self.connections.discard(connection)
            _log.info("notifier.disconnected", client_id=connection.client_id)
        return ws

    async def run(self, stop: asyncio.Event) -> None:
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False,
                               shutdown_timeout=2.0)
        await runner.setup()
        hub = asyncio.create_task(self.hub.run(stop))
        try:
            site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
            try:
                await site.start()
            except OSError as exc:
                raise UnavailableError(
                    f"the notifier cannot listen on {self.host}:{self.port}: {exc.strerror}"
                    " (choose another port with ATTUNE_NOTIFIER_PORT)") from exc
            _log.info("notifier.listening", url=self.url)
            await stop.wait()
        finally:
            closing = [asyncio.create_task(c.close(1001, "the notifier is stopping"))
                       for c in list(self.connections)]
            if closing:  # clients that do not answer the close are not waited for long
                await asyncio.wait(closing, timeout=2.0)
            await runner.cleanup()
            hub.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await hub
            _log.info("notifier.stopped")
