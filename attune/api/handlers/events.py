"""Events: post one (administrators, and sensors with a sensor token for their own
trigger types), list them newest first, show one. Events are immutable: no PUT, no
DELETE."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.models import EventAccepted, EventCreateRequest, EventListQuery, EventOut, IdPath
from attune.api.queries import events as reads
from attune.api.routing import Call, Permission, Route
from attune.app import events


async def create_event(call: Call) -> web.Response:
    body = call.body_as(EventCreateRequest)
    claims = call.claims
    sensor = claims is not None and claims.token_type == "sensor"
    allowed = None
    source_ref = None
    if sensor and claims is not None:
        kinds = claims.metadata.get("trigger_types")
        allowed = [str(k) for k in kinds] if isinstance(kinds, list) else []
        sensor_ref = claims.metadata.get("sensor_ref")
        source_ref = str(sensor_ref) if sensor_ref else None
    event_id = await events.create(
        call.ctx, body.trigger_ref, body.payload, source="sensor" if sensor else "api",
        source_ref=source_ref, trigger_instance_id=body.trigger_instance_id,
        allowed_triggers=allowed, rule_ref=body.rule_ref, meta=call.meta)
    if await call.waiter.wait_for(event_id, WRITE_WAIT_SECONDS):
        found = await reads.find_event(call.ctx.pool, event_id)
        if found is not None:
            return envelopes.single(found, status=201, sequence=event_id)
    return envelopes.single(EventAccepted(id=event_id, trigger_ref=body.trigger_ref),
                            status=202, sequence=event_id)


async def list_events(call: Call) -> web.Response:
    query = call.query_as(EventListQuery)
    items = await reads.list_events(call.ctx.pool, trigger_ref=query.trigger_ref,
                                    source=query.source, rule_ref=query.rule_ref,
                                    limit=query.fetch_limit, offset=query.offset)
    total = (await reads.count_events(call.ctx.pool, trigger_ref=query.trigger_ref,
                                      source=query.source, rule_ref=query.rule_ref)
             if query.include_total else None)
    return envelopes.page(items, query, total=total)


async def get_event(call: Call) -> web.Response:
    return envelopes.single(await reads.get_event(call.ctx.pool, call.path_as(IdPath).id))


ROUTES = [
    Route("POST", "/api/v1/events", create_event,
          "Emit an event of a trigger (payload checked against its out_schema; a sensor "
          "token only for its own trigger types; trigger_instance_id makes it idempotent)",
          Permission("events", "create"), "events", body=EventCreateRequest,
          response=EventOut, status=201, alternatives={202: EventAccepted}, command=True,
          tokens=("access", "sensor", "execution")),
    Route("GET", "/api/v1/events", list_events,
          "List events, newest first (filters: trigger_ref, source, rule_ref)",
          Permission("events", "read"), "events", query=EventListQuery, response=EventOut,
          envelope="list"),
    Route("GET", "/api/v1/events/{id}", get_event, "Show an event",
          Permission("events", "read"), "events", params=IdPath, response=EventOut),
]
