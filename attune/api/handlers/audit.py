"""The audit trail (`/api/v1/audit-events`, needs audit_log:read) and the history of
one entity, read from the event stream: `/api/v1/{rules,actions,keys}/{ref}/history`
for whoever may read the entity, `/api/v1/history/{entity}/{ref}` for auditors."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.models import IdPath, PageQuery, RefPath
from attune.api.models.audit import (
    AuditEventOut,
    AuditListQuery,
    ChangeOut,
    HistoryPath,
    RequestIdPath,
)
from attune.api.queries import audit as reads
from attune.api.queries.keys import key_target
from attune.api.routing import Call, Handler, Permission, Route
from attune.app import audit
from attune.app.authorization import authorize
from attune.errors import NotFoundError


async def list_audit_events(call: Call) -> web.Response:
    query = call.query_as(AuditListQuery)
    rows = await reads.page(call.ctx.pool, query)
    total = await reads.count(call.ctx.pool, query) if query.include_total else None
    return envelopes.page(rows, query, total=total)


async def get_audit_event(call: Call) -> web.Response:
    event_id = call.path_as(IdPath).id
    found = await reads.by_id(call.ctx.pool, event_id)
    if found is None:
        raise NotFoundError(f"audit event {event_id} not found")
    return envelopes.single(found)


async def get_audit_events_by_request(call: Call) -> web.Response:
    request_id = call.path_as(RequestIdPath).request_id
    query = call.query_as(PageQuery)
    rows = await reads.by_request(call.ctx.pool, request_id, limit=query.fetch_limit,
                                  offset=query.offset)
    if not rows and query.page == 1:
        raise NotFoundError(f"no audit events for request {request_id!r} (the id is the "
                            "X-Request-Id header of the answer)")
    return envelopes.page(rows, query)


async def _history(call: Call, entity: str, ref: str) -> web.Response:
    changes = await audit.history(call.ctx, entity, ref)
    out = [ChangeOut(sequence=c.seq, at=c.at, event_type=c.event_type, actor=c.actor,
                     request_id=c.request_id, summary=c.summary) for c in changes]
    return envelopes.json_response({"data": [envelopes.dump(c) for c in out]})


async def entity_history(call: Call) -> web.Response:
    path = call.path_as(HistoryPath)
    return await _history(call, path.entity, path.ref)


def _of(entity: str) -> Handler:
    async def history(call: Call) -> web.Response:
        ref = call.path_as(RefPath).ref
        if entity == "key":  # keys check their own object (constraints on the key)
            authorize(call.user, "keys", "read", key_target(ref))
        return await _history(call, entity, ref)
    history.__name__ = f"{entity}_history"
    return history


_AUDIT = Permission("audit_log", "read")

ROUTES = [
    Route("GET", "/api/v1/audit-events", list_audit_events,
          "The audit trail, newest first: every API request and every domain change with "
          "actor, token type, resource, outcome and request id (filters: kind, actor, "
          "category, outcome, resource_ref, request_id, since, until)", _AUDIT, "audit",
          query=AuditListQuery, response=AuditEventOut, envelope="list"),
    Route("GET", "/api/v1/audit-events/by-request/{request_id}", get_audit_events_by_request,
          "A request and every change that followed from it (a workflow's whole run "
          "shares its request id), in order", _AUDIT, "audit", params=RequestIdPath,
          query=PageQuery, response=AuditEventOut, envelope="list"),
    Route("GET", "/api/v1/audit-events/{id}", get_audit_event, "One audit event", _AUDIT,
          "audit", params=IdPath, response=AuditEventOut),
    Route("GET", "/api/v1/history/{entity}/{ref}", entity_history,
          "Every change to an entity, from the event stream, with who and when", _AUDIT,
          "audit", params=HistoryPath, response=ChangeOut, envelope="raw"),
    *(Route("GET", f"/api/v1/{resource}/{{ref}}/history", _of(entity),
            f"Every change to a {entity}, from the event stream, with who and when "
            "(never values)", Permission(resource, "read"), "audit", params=RefPath,
            response=ChangeOut, envelope="raw")
      for entity, resource in (("rule", "rules"), ("action", "actions"), ("key", "keys"))),
]
