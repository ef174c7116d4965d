"""Sensors: list (all, enabled, of a pack, of a trigger), show (with the replica running
it), enable/disable, their logs; and
sensor tokens (`POST /auth/internal/sensor-token`, administrators)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from aiohttp import web
from nats.errors import Error as NatsError

from attune.api import envelopes
from attune.api.handlers import written
from attune.api.models import CommandAccepted, PageQuery, RefPath
from attune.api.models.sensors import (
    SensorListQuery,
    SensorLogLine,
    SensorLogOut,
    SensorLogQuery,
    SensorOut,
    SensorTokenOut,
    SensorTokenRequest,
)
from attune.api.queries import sensors as reads
from attune.api.queries.components import require
from attune.api.routing import Call, Permission, Route
from attune.app import sensors
from attune.errors import UnavailableError
from attune.sensor import logs
from attune.sensor.instances import running_on


def reader(call: Call, ref: str) -> written.Read:
    async def read() -> SensorOut | None:
        return await reads.find(call.ctx.pool, ref)
    return read


def _filters(query: SensorListQuery) -> reads.Filters:
    return reads.Filters(q=query.q, pack_ref=query.pack_ref, trigger_ref=query.trigger_ref,
                         enabled=query.enabled)


async def list_sensors(call: Call) -> web.Response:
    query = call.query_as(SensorListQuery)
    items = await reads.list_page(call.ctx.pool, _filters(query), limit=query.fetch_limit,
                                  offset=query.offset)
    total = await reads.count(call.ctx.pool, _filters(query)) if query.include_total else None
    return envelopes.page(items, query, total=total)


async def list_enabled_sensors(call: Call) -> web.Response:
    return await _page(call, reads.Filters(enabled=True))


async def list_pack_sensors(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    await require(call.ctx.pool, "packs", ref)
    return await _page(call, reads.Filters(pack_ref=ref))


async def list_trigger_sensors(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    await require(call.ctx.pool, "triggers", ref)
    return await _page(call, reads.Filters(trigger_ref=ref))


async def _page(call: Call, filters: reads.Filters) -> web.Response:
    query = call.query_as(PageQuery)
    items = await reads.list_page(call.ctx.pool, filters, limit=query.fetch_limit,
                                  offset=query.offset)
    total = await reads.count(call.ctx.pool, filters) if query.include_total else None
    return envelopes.page(items, query, total=total)


async def get_sensor(call: Call) -> web.Response:
    sensor = await reads.get(call.ctx.pool, call.path_as(RefPath).ref)
    holder = None
    with contextlib.suppress(Exception):  # NATS away: show the sensor without it
        holder = await running_on(call.ctx.store.js, sensor.ref)
    return envelopes.single(sensor.model_copy(update={"running_on": holder}))


async def enable_sensor(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await sensors.set_enabled(call.ctx, ref, True, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def disable_sensor(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await sensors.set_enabled(call.ctx, ref, False, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def list_sensor_logs(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    query = call.query_as(SensorLogQuery)
    await reads.get(call.ctx.pool, ref)  # 404 for an unknown sensor
    try:
        lines, truncated = await logs.read(call.ctx.store.js, ref,
                                           since=timedelta(seconds=query.since_seconds),
                                           limit=query.limit, stream=query.stream)
    except (NatsError, OSError, TimeoutError) as exc:
        raise UnavailableError(f"sensor logs unavailable ({exc!r}): is NATS up? Retry "
                               "shortly") from None
    return envelopes.single(SensorLogOut(
        sensor_ref=ref, truncated=truncated,
        lines=[SensorLogLine(at=line.at, stream=line.stream, text=line.text)
               for line in lines]))


async def create_sensor_token(call: Call) -> web.Response:
    body = call.body_as(SensorTokenRequest)
    kinds = await sensors.check_trigger_types(call.ctx, body.trigger_types)
    issued = await sensors.issue_token(call.ctx, body.sensor_ref, kinds, ttl=body.ttl_seconds)
    return envelopes.single(SensorTokenOut(
        identity_id=issued.identity_id, sensor_ref=issued.sensor_ref, token=issued.token,
        expires_at=issued.expires_at, trigger_types=issued.trigger_types), status=201)


_READ = Permission("sensors", "read")
_UPDATE = Permission("sensors", "update")
_ACCEPTED = {202: CommandAccepted}

ROUTES = [
    Route("GET", "/api/v1/sensors", list_sensors,
          "List sensors (filters: q, pack_ref, trigger_ref, enabled)", _READ, "sensors",
          query=SensorListQuery, response=SensorOut, envelope="list"),
    # before /sensors/{ref}: the router tries routes in this order
    Route("GET", "/api/v1/sensors/enabled", list_enabled_sensors, "List the enabled sensors",
          _READ, "sensors", query=PageQuery, response=SensorOut, envelope="list"),
    Route("GET", "/api/v1/packs/{ref}/sensors", list_pack_sensors, "List a pack's sensors",
          _READ, "sensors", params=RefPath, query=PageQuery, response=SensorOut,
          envelope="list"),
    Route("GET", "/api/v1/triggers/{ref}/sensors", list_trigger_sensors,
          "List the sensors emitting a trigger type", _READ, "sensors", params=RefPath,
          query=PageQuery, response=SensorOut, envelope="list"),
    Route("GET", "/api/v1/sensors/{ref}", get_sensor,
          "Show a sensor and the sensor service replica running it", _READ, "sensors",
          params=RefPath, response=SensorOut),
    Route("POST", "/api/v1/sensors/{ref}/enable", enable_sensor,
          "Enable a sensor (the sensor service starts it)", _UPDATE, "sensors",
          params=RefPath, response=SensorOut, alternatives=_ACCEPTED, command=True),
    Route("POST", "/api/v1/sensors/{ref}/disable", disable_sensor,
          "Disable a sensor (the sensor service stops it)", _UPDATE, "sensors",
          params=RefPath, response=SensorOut, alternatives=_ACCEPTED, command=True),
    Route("GET", "/api/v1/sensors/{ref}/logs", list_sensor_logs,
          "The newest lines a sensor's process wrote, and what the sensor service "
          "said about it (started, exited, restarting)", _READ, "sensors", params=RefPath,
          query=SensorLogQuery, response=SensorLogOut),
    Route("POST", "/auth/internal/sensor-token", create_sensor_token,
          "Mint a sensor token (administrators): type sensor, limited to trigger_types, "
          "valid 1-72 h", Permission("sensors", "manage"), "auth", body=SensorTokenRequest,
          response=SensorTokenOut, status=201),
]
