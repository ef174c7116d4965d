"""The aiohttp application: middlewares, the route table, and the read-your-writes
listener that lives as long as the app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import orjson
from aiohttp import web

from attune.api import audit_trail
from attune.api.consistency import ProjectionWaiter
from attune.api.endpoint import CONTEXT, WAITER, endpoint
from attune.api.errors import error_middleware
from attune.api.handlers.health import STARTED_AT
from attune.api.handlers.spec import SPEC
from attune.api.openapi import build
from attune.api.request_log import request_log_middleware
from attune.api.routes import ROUTES
from attune.api.routing import Route
from attune.app.context import Context


def create_app(ctx: Context, routes: Sequence[Route] = ROUTES) -> web.Application:
    app = web.Application(middlewares=[request_log_middleware, error_middleware],
                          client_max_size=ctx.settings.max_body_bytes)
    app[CONTEXT] = ctx
    app[WAITER] = ProjectionWaiter(ctx.pool)
    app[SPEC] = orjson.dumps(build(routes))
    for route in routes:
        app.router.add_route(route.method, route.path, endpoint(route))
    app.cleanup_ctx.append(_listen)
    audit_trail.install(app, ctx, routes)  # one audit record per request
    return app


async def _listen(app: web.Application) -> AsyncIterator[None]:
    app[STARTED_AT] = await app[CONTEXT].store.last_sequence()
    stop = asyncio.Event()
    task = asyncio.create_task(app[WAITER].run(stop))
    yield
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
