"""Runtimes: list (filters, or under a pack) and show. They are defined by packs
(`runtimes/*.yaml`); registering the pack is how they change."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.models import PageQuery, RefPath, RuntimeListQuery, RuntimeOut
from attune.api.queries.components import require
from attune.api.queries.runtimes import READS, Filters
from attune.api.routing import Call, Permission, Route


async def _page(call: Call, filters: Filters, query: PageQuery) -> web.Response:
    # a Where gathers its page's arguments: one each for the page and the count
    items = await READS.list_page(call.ctx.pool, filters.where(), limit=query.fetch_limit,
                                  offset=query.offset)
    total = await READS.count(call.ctx.pool, filters.where()) if query.include_total else None
    return envelopes.page(items, query, total=total)


async def list_runtimes(call: Call) -> web.Response:
    query = call.query_as(RuntimeListQuery)
    return await _page(call, Filters(q=query.q, pack_ref=query.pack_ref, family=query.family,
                                     enabled=query.enabled), query)


async def list_pack_runtimes(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    await require(call.ctx.pool, "packs", ref)
    return await _page(call, Filters(pack_ref=ref), call.query_as(PageQuery))


async def get_runtime(call: Call) -> web.Response:
    return envelopes.single(await READS.get(call.ctx.pool, call.path_as(RefPath).ref))


_READ = Permission("runtimes", "read")

ROUTES = [
    Route("GET", "/api/v1/runtimes", list_runtimes,
          "List runtimes (filters: q, pack_ref, family, enabled)", _READ, "runtimes",
          query=RuntimeListQuery, response=RuntimeOut, envelope="list"),
    Route("GET", "/api/v1/runtimes/{ref}", get_runtime,
          "Show a runtime: its interpreter, environment, dependencies, env_vars and versions",
          _READ, "runtimes", params=RefPath, response=RuntimeOut),
    Route("GET", "/api/v1/packs/{ref}/runtimes", list_pack_runtimes,
          "List the runtimes a pack defines", _READ, "runtimes", params=RefPath,
          query=PageQuery, response=RuntimeOut, envelope="list"),
]
