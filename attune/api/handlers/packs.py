"""Packs: register a directory on the server, list and show what is registered."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.models import PackDetailOut, PackOut, PackRegisterRequest, PageQuery, RefPath
from attune.api.queries import catalog
from attune.api.routing import Call, Permission, Route
from attune.app import packs


async def register_pack(call: Call) -> web.Response:
    path = call.body_as(PackRegisterRequest).path
    loaded, seq = await packs.register(call.ctx, path, meta=call.meta)
    if await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS):
        return envelopes.single(await catalog.get_pack(call.ctx.pool, loaded.pack.ref),
                                sequence=seq)
    pending = PackDetailOut(**catalog.pack_out(loaded.pack).model_dump(),
                            actions=[catalog.action_out(a) for a in loaded.actions])
    return envelopes.single(pending, status=202, sequence=seq)


async def list_packs(call: Call) -> web.Response:
    query = call.query_as(PageQuery)
    items = await catalog.list_packs(call.ctx.pool, limit=query.fetch_limit,
                                     offset=query.offset)
    total = await catalog.count_packs(call.ctx.pool) if query.include_total else None
    return envelopes.page(items, query, total=total)


async def get_pack(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    return envelopes.single(await catalog.get_pack(call.ctx.pool, ref))


ROUTES = [
    Route("POST", "/api/v1/packs/register", register_pack,
          "Register (or re-register) the pack in a directory on the server",
          Permission("packs", "create"), "packs", body=PackRegisterRequest,
          response=PackDetailOut, command=True, alternatives={202: PackDetailOut}),
    Route("GET", "/api/v1/packs", list_packs, "List registered packs",
          Permission("packs", "read"), "packs", query=PageQuery, response=PackOut,
          envelope="list"),
    Route("GET", "/api/v1/packs/{ref}", get_pack, "Show a pack with its actions",
          Permission("packs", "read"), "packs", params=RefPath, response=PackDetailOut),
]
