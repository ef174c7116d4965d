"""Health probes (public, not enveloped): alive, and ready to serve consistent reads."""

from __future__ import annotations

import asyncio

from aiohttp import web

import attune
from attune.api import envelopes
from attune.api.consistency import POSITION_SQL
from attune.api.models import HealthOut, ReadyOut
from attune.api.routing import PUBLIC, Call, Route
from attune.errors import UnavailableError

#: how many events the projections may trail the stream and still be "ready"
READY_MAX_LAG = 1000
CHECK_TIMEOUT = 2.0
#: the stream's last sequence when the API started: until the projections have applied
#: it (the admin, the core pack...), reads would miss what was there before the start
STARTED_AT = web.AppKey("started_at_sequence", int)


async def health(call: Call) -> web.Response:
    return envelopes.raw(HealthOut(version=attune.__version__))


async def live(call: Call) -> web.Response:
    return envelopes.raw(HealthOut(version=attune.__version__))


async def ready(call: Call) -> web.Response:
    ctx = call.ctx
    if not ctx.nc.is_connected:
        raise UnavailableError("not ready: NATS is not connected")
    try:
        position = int(await asyncio.wait_for(ctx.pool.fetchval(POSITION_SQL), CHECK_TIMEOUT))
    except Exception as exc:
        raise UnavailableError(f"not ready: PostgreSQL does not answer ({exc!r})") from None
    try:
        last = await asyncio.wait_for(ctx.store.last_sequence(), CHECK_TIMEOUT)
    except Exception as exc:
        raise UnavailableError(f"not ready: JetStream does not answer ({exc!r})") from None
    lag = max(last - position, 0)
    started_at = call.request.app.get(STARTED_AT, 0)
    if position < started_at:
        raise UnavailableError(
            f"not ready: projections are applying the events recorded before this start "
            f"(at {position} of {started_at})",
            details={"stream_sequence": last, "projection_position": position, "lag": lag})
    if lag > READY_MAX_LAG:
        raise UnavailableError(
            f"not ready: projections trail the event stream by {lag} events (at {position}, "
            f"stream at {last}, bound {READY_MAX_LAG})",
            details={"stream_sequence": last, "projection_position": position, "lag": lag})
    return envelopes.raw(ReadyOut(stream_sequence=last, projection_position=position, lag=lag))


ROUTES = [
    Route("GET", "/health", health, "Service health", PUBLIC, "health", response=HealthOut,
          envelope="raw"),
    Route("GET", "/health/live", live, "Liveness: the process answers", PUBLIC, "health",
          response=HealthOut, envelope="raw"),
    Route("GET", "/health/ready", ready,
          "Readiness: NATS connected, PostgreSQL answering, projections caught up", PUBLIC,
          "health", response=ReadyOut, envelope="raw"),
]
