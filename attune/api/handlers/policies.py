"""Policies: list (filters, and under a pack or an action — there with the effective
one marked), show, create, change, delete, enable, disable. What a policy could get
wrong is refused when it is written (see `attune.app.policies`)."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.handlers import written
from attune.api.models import (
    ActionPolicyOut,
    CommandAccepted,
    DeletedOut,
    PageQuery,
    PolicyCreateRequest,
    PolicyListQuery,
    PolicyOut,
    PolicyUpdateRequest,
    RefPath,
)
from attune.api.queries import policies as reads
from attune.api.queries.components import require
from attune.api.routing import Call, Permission, Route
from attune.app import policies


def reader(call: Call, ref: str) -> written.Read:
    async def read() -> PolicyOut | None:
        return await reads.find(call.ctx.pool, ref)
    return read


async def _page(call: Call, filters: reads.Filters, query: PageQuery) -> web.Response:
    items = await reads.list_page(call.ctx.pool, filters, limit=query.fetch_limit,
                                  offset=query.offset)
    total = await reads.count(call.ctx.pool, filters) if query.include_total else None
    return envelopes.page(items, query, total=total)


async def list_policies(call: Call) -> web.Response:
    query = call.query_as(PolicyListQuery)
    return await _page(call, reads.Filters(q=query.q, pack_ref=query.pack_ref,
                                           action_ref=query.action_ref,
                                           enabled=query.enabled), query)


async def list_pack_policies(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    await require(call.ctx.pool, "packs", ref)
    return await _page(call, reads.Filters(pack_ref=ref), call.query_as(PageQuery))


async def list_action_policies(call: Call) -> web.Response:
    """All of them at once (an action has few): which one is effective depends on all."""
    ref = call.path_as(RefPath).ref
    query = call.query_as(PageQuery)
    await require(call.ctx.pool, "actions", ref)
    found = await reads.for_action(call.ctx.pool, ref)
    items = found[query.offset:query.offset + query.fetch_limit]
    return envelopes.page(items, query, total=len(found) if query.include_total else None)


async def get_policy(call: Call) -> web.Response:
    return envelopes.single(await reads.get(call.ctx.pool, call.path_as(RefPath).ref))


async def create_policy(call: Call) -> web.Response:
    body = call.body_as(PolicyCreateRequest)
    seq = await policies.create(call.ctx, body.model_dump(exclude_none=True), meta=call.meta)
    return await written.component(call, body.ref, seq, reader(call, body.ref), status=201)


async def update_policy(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    changes = written.changes(call.body_as(PolicyUpdateRequest),
                              nullable=("concurrency", "rate_limit"))
    seq = await policies.update(call.ctx, ref, changes, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def delete_policy(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await policies.delete(call.ctx, ref, meta=call.meta)
    return await written.deleted(call, "policy", ref, seq)


async def enable_policy(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await policies.set_enabled(call.ctx, ref, True, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def disable_policy(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await policies.set_enabled(call.ctx, ref, False, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


_READ = Permission("policies", "read")
_UPDATE = Permission("policies", "update")
_ACCEPTED = {202: CommandAccepted}

ROUTES = [
    Route("GET", "/api/v1/policies", list_policies,
          "List policies (filters: q, pack_ref, action_ref, enabled)", _READ, "policies",
          query=PolicyListQuery, response=PolicyOut, envelope="list"),
    Route("POST", "/api/v1/policies", create_policy,
          "Create a policy: one target (action_ref or pack_ref) that exists, concurrency "
          "and/or rate_limit; concurrency parameters must be the action's (422 naming the "
          "field)", Permission("policies", "create"), "policies", body=PolicyCreateRequest,
          response=PolicyOut, status=201, alternatives=_ACCEPTED, command=True),
    Route("GET", "/api/v1/policies/{ref}", get_policy, "Show a policy", _READ, "policies",
          params=RefPath, response=PolicyOut),
    Route("PUT", "/api/v1/policies/{ref}", update_policy,
          "Change a policy created through the API (checked like a new one)", _UPDATE,
          "policies", params=RefPath, body=PolicyUpdateRequest, response=PolicyOut,
          alternatives=_ACCEPTED, command=True),
    Route("DELETE", "/api/v1/policies/{ref}", delete_policy,
          "Delete a policy created through the API", Permission("policies", "delete"),
          "policies", params=RefPath, response=DeletedOut, envelope="raw", command=True),
    Route("POST", "/api/v1/policies/{ref}/enable", enable_policy, "Enable a policy", _UPDATE,
          "policies", params=RefPath, response=PolicyOut, alternatives=_ACCEPTED,
          command=True),
    Route("POST", "/api/v1/policies/{ref}/disable", disable_policy,
          "Disable a policy: it no longer limits executions", _UPDATE, "policies",
          params=RefPath, response=PolicyOut, alternatives=_ACCEPTED, command=True),
    Route("GET", "/api/v1/packs/{ref}/policies", list_pack_policies,
          "List the policies of a pack", _READ, "policies", params=RefPath, query=PageQuery,
          response=PolicyOut, envelope="list"),
    Route("GET", "/api/v1/actions/{ref}/policies", list_action_policies,
          "List the policies that apply to an action (its own and its pack's), marking "
          "the effective one", _READ, "policies", params=RefPath, query=PageQuery,
          response=ActionPolicyOut, envelope="list"),
]
