"""Triggers: list, show, and — for triggers not from a pack — create, change and
delete; enable/disable any trigger. Each shows its webhook (the key only to callers
who may update triggers)."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.handlers import written
from attune.api.models import (
    CommandAccepted,
    DeletedOut,
    PageQuery,
    RefPath,
    TriggerCreateRequest,
    TriggerListQuery,
    TriggerOut,
    TriggerUpdateRequest,
)
from attune.api.queries import triggers as reads
from attune.api.queries.components import require
from attune.api.routing import Call, Permission, Route
from attune.app import triggers
from attune.app.authorization import allowed
from attune.security.crypto import Sealer


def key_sealer(call: Call) -> Sealer | None:
    """Webhook keys are shown to those who may manage triggers, no one else."""
    return call.ctx.sealer if allowed(call.user, "triggers", "update") else None


def reader(call: Call, ref: str) -> written.Read:
    async def read() -> TriggerOut | None:
        return await reads.find(call.ctx.pool, key_sealer(call), ref)
    return read


async def list_triggers(call: Call) -> web.Response:
    query = call.query_as(TriggerListQuery)
    items = await reads.list_page(call.ctx.pool, key_sealer(call), q=query.q,
                                  pack_ref=query.pack_ref, enabled=query.enabled,
                                  limit=query.fetch_limit, offset=query.offset)
    total = (await reads.count(call.ctx.pool, q=query.q, pack_ref=query.pack_ref,
                               enabled=query.enabled) if query.include_total else None)
    return envelopes.page(items, query, total=total)


async def list_enabled_triggers(call: Call) -> web.Response:
    query = call.query_as(PageQuery)
    items = await reads.list_page(call.ctx.pool, key_sealer(call), enabled=True,
                                  limit=query.fetch_limit, offset=query.offset)
    total = await reads.count(call.ctx.pool, enabled=True) if query.include_total else None
    return envelopes.page(items, query, total=total)


async def list_pack_triggers(call: Call) -> web.Response:
    pack_ref = call.path_as(RefPath).ref
    query = call.query_as(PageQuery)
    await require(call.ctx.pool, "packs", pack_ref)
    items = await reads.list_page(call.ctx.pool, key_sealer(call), pack_ref=pack_ref,
                                  limit=query.fetch_limit, offset=query.offset)
    total = (await reads.count(call.ctx.pool, pack_ref=pack_ref)
             if query.include_total else None)
    return envelopes.page(items, query, total=total)


async def get_trigger(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    return envelopes.single(await reads.get(call.ctx.pool, key_sealer(call), ref))


async def create_trigger(call: Call) -> web.Response:
    body = call.body_as(TriggerCreateRequest)
    values = body.model_dump(exclude_none=True)
    seq = await triggers.create(call.ctx, values, meta=call.meta)
    return await written.component(call, body.ref, seq, reader(call, body.ref), status=201)


async def update_trigger(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await triggers.update(call.ctx, ref, written.changes(
        call.body_as(TriggerUpdateRequest)), meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def delete_trigger(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await triggers.delete(call.ctx, ref, meta=call.meta)
    return await written.deleted(call, "trigger", ref, seq)


async def enable_trigger(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await triggers.set_enabled(call.ctx, ref, True, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def disable_trigger(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await triggers.set_enabled(call.ctx, ref, False, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


_ACCEPTED = {202: CommandAccepted}

ROUTES = [
    Route("GET", "/api/v1/triggers", list_triggers,
          "List triggers (filters: q, pack_ref, enabled)", Permission("triggers", "read"),
          "triggers", query=TriggerListQuery, response=TriggerOut, envelope="list"),
    Route("POST", "/api/v1/triggers", create_trigger,
          "Create a trigger in a registered pack (ref <pack>.<name>)",
          Permission("triggers", "create"), "triggers", body=TriggerCreateRequest,
          response=TriggerOut, status=201, alternatives=_ACCEPTED, command=True),
    # before /triggers/{ref}: the router tries routes in this order
    Route("GET", "/api/v1/triggers/enabled", list_enabled_triggers, "List the enabled triggers",
          Permission("triggers", "read"), "triggers", query=PageQuery, response=TriggerOut,
          envelope="list"),
    Route("GET", "/api/v1/triggers/{ref}", get_trigger,
          "Show a trigger with its schemas and webhook", Permission("triggers", "read"),
          "triggers", params=RefPath, response=TriggerOut),
    Route("PUT", "/api/v1/triggers/{ref}", update_trigger,
          "Change a trigger created through the API (pack triggers change with their pack)",
          Permission("triggers", "update"), "triggers", params=RefPath,
          body=TriggerUpdateRequest, response=TriggerOut, alternatives=_ACCEPTED,
          command=True),
    Route("DELETE", "/api/v1/triggers/{ref}", delete_trigger,
          "Delete a trigger created through the API and used by no rule",
          Permission("triggers", "delete"), "triggers", params=RefPath, response=DeletedOut,
          envelope="raw", command=True),
    Route("POST", "/api/v1/triggers/{ref}/enable", enable_trigger, "Enable a trigger",
          Permission("triggers", "update"), "triggers", params=RefPath, response=TriggerOut,
          alternatives=_ACCEPTED, command=True),
    Route("POST", "/api/v1/triggers/{ref}/disable", disable_trigger,
          "Disable a trigger: its events are refused (409) until it is enabled again",
          Permission("triggers", "update"), "triggers", params=RefPath, response=TriggerOut,
          alternatives=_ACCEPTED, command=True),
    Route("GET", "/api/v1/packs/{ref}/triggers", list_pack_triggers,
          "List the triggers of a pack", Permission("triggers", "read"), "triggers",
          params=RefPath, query=PageQuery, response=TriggerOut, envelope="list"),
]
