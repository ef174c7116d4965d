"""Rules: list (filters, and under a pack, an action or a trigger), show, create,
change, delete, enable, disable. Everything a rule could get wrong is refused at
creation with a message naming the field (see `attune.app.rules`)."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.handlers import written
from attune.api.models import (
    CommandAccepted,
    DeletedOut,
    PageQuery,
    RefPath,
    RuleCreateRequest,
    RuleListQuery,
    RuleOut,
    RuleUpdateRequest,
)
from attune.api.queries import rules as reads
from attune.api.queries.components import require
from attune.api.routing import Call, Permission, Route
from attune.app import rules
from attune.app.authorization import authorize_trigger


def reader(call: Call, ref: str) -> written.Read:
    async def read() -> RuleOut | None:
        return await reads.find(call.ctx.pool, ref)
    return read


async def list_rules(call: Call) -> web.Response:
    query = call.query_as(RuleListQuery)
    filters = reads.Filters(q=query.q, pack_ref=query.pack_ref, action_ref=query.action_ref,
                            trigger_ref=query.trigger_ref, enabled=query.enabled)
    items = await reads.list_page(call.ctx.pool, filters, limit=query.fetch_limit,
                                  offset=query.offset)
    total = await reads.count(call.ctx.pool, filters) if query.include_total else None
    return envelopes.page(items, query, total=total)


async def list_enabled_rules(call: Call) -> web.Response:
    query = call.query_as(PageQuery)
    filters = reads.Filters(enabled=True)
    items = await reads.list_page(call.ctx.pool, filters, limit=query.fetch_limit,
                                  offset=query.offset)
    total = await reads.count(call.ctx.pool, filters) if query.include_total else None
    return envelopes.page(items, query, total=total)


async def _under(call: Call, table: str) -> web.Response:
    """The rules of one pack, action or trigger (404 when that does not exist)."""
    ref = call.path_as(RefPath).ref
    query = call.query_as(PageQuery)
    await require(call.ctx.pool, table, ref)
    filters = reads.Filters(pack_ref=ref if table == "packs" else None,
                            action_ref=ref if table == "actions" else None,
                            trigger_ref=ref if table == "triggers" else None)
    items = await reads.list_page(call.ctx.pool, filters, limit=query.fetch_limit,
                                  offset=query.offset)
    total = await reads.count(call.ctx.pool, filters) if query.include_total else None
    return envelopes.page(items, query, total=total)


async def list_pack_rules(call: Call) -> web.Response:
    return await _under(call, "packs")


async def list_action_rules(call: Call) -> web.Response:
    return await _under(call, "actions")


async def list_trigger_rules(call: Call) -> web.Response:
    return await _under(call, "triggers")


async def get_rule(call: Call) -> web.Response:
    rule = await reads.get(call.ctx.pool, call.path_as(RefPath).ref)
    # a sensor reads the rules of its own trigger types (deferred lifecycle payloads)
    authorize_trigger(call.claims, rule.trigger_ref, "read rules")
    return envelopes.single(rule)


async def create_rule(call: Call) -> web.Response:
    body = call.body_as(RuleCreateRequest)
    values = body.model_dump(exclude_none=True)
    values["conditions"] = body.conditions
    seq = await rules.create(call.ctx, values, meta=call.meta)
    return await written.component(call, body.ref, seq, reader(call, body.ref), status=201)


async def update_rule(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    changes = written.changes(call.body_as(RuleUpdateRequest), nullable=("conditions",))
    seq = await rules.update(call.ctx, ref, changes, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def delete_rule(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await rules.delete(call.ctx, ref, meta=call.meta)
    return await written.deleted(call, "rule", ref, seq)


async def enable_rule(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await rules.set_enabled(call.ctx, ref, True, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def disable_rule(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await rules.set_enabled(call.ctx, ref, False, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


_READ = Permission("rules", "read")
_UPDATE = Permission("rules", "update")
_ACCEPTED = {202: CommandAccepted}

ROUTES = [
    Route("GET", "/api/v1/rules", list_rules,
          "List rules (filters: q, pack_ref, action_ref, trigger_ref, enabled)", _READ,
          "rules", query=RuleListQuery, response=RuleOut, envelope="list"),
    Route("POST", "/api/v1/rules", create_rule,
          "Create a rule: trigger and action must exist; conditions, templates and "
          "trigger_params are checked (422 naming the field)", Permission("rules", "create"),
          "rules", body=RuleCreateRequest, response=RuleOut, status=201,
          alternatives=_ACCEPTED, command=True),
    # before /rules/{ref}: the router tries routes in this order
    Route("GET", "/api/v1/rules/enabled", list_enabled_rules, "List the enabled rules",
          _READ, "rules", query=PageQuery, response=RuleOut, envelope="list"),
    Route("GET", "/api/v1/rules/{ref}", get_rule,
          "Show a rule (a sensor token: a rule of its trigger types)", _READ, "rules",
          params=RefPath, response=RuleOut, tokens=("access", "execution", "sensor")),
    Route("PUT", "/api/v1/rules/{ref}", update_rule,
          "Change a rule created through the API (checked like a new one)", _UPDATE, "rules",
          params=RefPath, body=RuleUpdateRequest, response=RuleOut, alternatives=_ACCEPTED,
          command=True),
    Route("DELETE", "/api/v1/rules/{ref}", delete_rule, "Delete a rule created through the API",
          Permission("rules", "delete"), "rules", params=RefPath, response=DeletedOut,
          envelope="raw", command=True),
    Route("POST", "/api/v1/rules/{ref}/enable", enable_rule, "Enable a rule", _UPDATE, "rules",
          params=RefPath, response=RuleOut, alternatives=_ACCEPTED, command=True),
    Route("POST", "/api/v1/rules/{ref}/disable", disable_rule,
          "Disable a rule: it matches no event until enabled again", _UPDATE, "rules",
          params=RefPath, response=RuleOut, alternatives=_ACCEPTED, command=True),
    Route("GET", "/api/v1/packs/{ref}/rules", list_pack_rules, "List the rules of a pack",
          _READ, "rules", params=RefPath, query=PageQuery, response=RuleOut, envelope="list"),
    Route("GET", "/api/v1/actions/{ref}/rules", list_action_rules,
          "List the rules that run an action", _READ, "rules", params=RefPath,
          query=PageQuery, response=RuleOut, envelope="list"),
    Route("GET", "/api/v1/triggers/{ref}/rules", list_trigger_rules,
          "List the rules of a trigger", _READ, "rules", params=RefPath, query=PageQuery,
          response=RuleOut, envelope="list"),
]
