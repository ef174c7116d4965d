"""Actions as registered by their packs, with their parameter schemas."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.models import ActionListQuery, ActionOut, RefPath
from attune.api.queries import catalog
from attune.api.routing import Call, Permission, Route


async def list_actions(call: Call) -> web.Response:
    query = call.query_as(ActionListQuery)
    items = await catalog.list_actions(call.ctx.pool, pack_ref=query.pack_ref,
                                       limit=query.fetch_limit, offset=query.offset)
    total = (await catalog.count_actions(call.ctx.pool, pack_ref=query.pack_ref)
             if query.include_total else None)
    return envelopes.page(items, query, total=total)


async def get_action(call: Call) -> web.Response:
    return envelopes.single(await catalog.get_action(call.ctx.pool, call.path_as(RefPath).ref))


ROUTES = [
    Route("GET", "/api/v1/actions", list_actions, "List actions (filter: pack_ref)",
          Permission("actions", "read"), "actions", query=ActionListQuery, response=ActionOut,
          envelope="list"),
    Route("GET", "/api/v1/actions/{ref}", get_action,
          "Show an action with its parameter schema", Permission("actions", "read"),
          "actions", params=RefPath, response=ActionOut),
]
