"""Enforcements: a rule matched an event (`created -> processed | disabled`)."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.models import EnforcementListQuery, EnforcementOut, IdPath
from attune.api.queries import events as reads
from attune.api.routing import Call, Permission, Route


async def list_enforcements(call: Call) -> web.Response:
    query = call.query_as(EnforcementListQuery)
    items = await reads.list_enforcements(call.ctx.pool, rule_ref=query.rule_ref,
                                          event_id=query.event_id, status=query.status,
                                          limit=query.fetch_limit, offset=query.offset)
    total = (await reads.count_enforcements(call.ctx.pool, rule_ref=query.rule_ref,
                                            event_id=query.event_id, status=query.status)
             if query.include_total else None)
    return envelopes.page(items, query, total=total)


async def get_enforcement(call: Call) -> web.Response:
    return envelopes.single(await reads.get_enforcement(call.ctx.pool,
                                                        call.path_as(IdPath).id))


ROUTES = [
    Route("GET", "/api/v1/enforcements", list_enforcements,
          "List enforcements, newest first (filters: rule_ref, event_id, status)",
          Permission("enforcements", "read"), "enforcements", query=EnforcementListQuery,
          response=EnforcementOut, envelope="list"),
    Route("GET", "/api/v1/enforcements/{id}", get_enforcement,
          "Show an enforcement: the rule, the event, the rendered parameters, the execution",
          Permission("enforcements", "read"), "enforcements", params=IdPath,
          response=EnforcementOut),
]
