"""Executions: request one manually, show one, list them (newest first)."""

from __future__ import annotations

import re

from aiohttp import web

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.models import (
    ExecuteRequest,
    ExecutionAccepted,
    ExecutionListQuery,
    ExecutionOut,
    IdPath,
)
from attune.api.queries import executions as reads
from attune.api.routing import Call, Permission, Route
from attune.app import executions, workflow_definitions
from attune.app.workflows import CONDUCTOR
from attune.errors import BadRequestError

IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def idempotency_key(request: web.Request) -> str | None:
    """Repeating a request with the same key (within the stream's duplicate window)
    returns the execution the first one created instead of a new one."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise BadRequestError(f"{IDEMPOTENCY_HEADER} must be 1-200 visible ASCII characters")
    return key


async def execute(call: Call) -> web.Response:
    body = call.body_as(ExecuteRequest)
    execution_id = await executions.request(
        call.ctx, body.action_ref, body.parameters, meta=call.meta, env_vars=body.env_vars,
        timeout_seconds=body.timeout_seconds, requested_by=call.user.id,
        idempotency_key=idempotency_key(call.request))
    if await call.waiter.wait_for(execution_id, WRITE_WAIT_SECONDS):
        found = await reads.find(call.ctx.pool, execution_id)
        if found is not None:
            return envelopes.single(found, status=201, sequence=execution_id)
    accepted = ExecutionAccepted(id=execution_id, action_ref=body.action_ref)
    return envelopes.single(accepted, status=202, sequence=execution_id)


async def get_execution(call: Call) -> web.Response:
    found = await reads.get(call.ctx.pool, call.path_as(IdPath).id)
    # hook: a workflow shows its task states (attune/app/workflow_definitions.py); only
    # executions the executor's conductor runs can be workflows
    if found.worker == CONDUCTOR:
        view = await workflow_definitions.run_view(call.ctx, found.id)
        if view is not None:
            found = found.model_copy(update={"workflow": view})
    return envelopes.single(found)


async def list_executions(call: Call) -> web.Response:
    query = call.query_as(ExecutionListQuery)
    items = await reads.list_page(
        call.ctx.pool, status=query.status, action_ref=query.action_ref,
        rule_ref=query.rule_ref, trigger_ref=query.trigger_ref, enforcement=query.enforcement,
        limit=query.fetch_limit, offset=query.offset)
    total = (await reads.count(
        call.ctx.pool, status=query.status, action_ref=query.action_ref,
        rule_ref=query.rule_ref, trigger_ref=query.trigger_ref, enforcement=query.enforcement)
        if query.include_total else None)
    return envelopes.page(items, query, total=total)


ROUTES = [
    Route("POST", "/api/v1/executions/execute", execute,
          "Run an action: validates the parameters and requests an execution",
          Permission("actions", "execute"), "executions", body=ExecuteRequest,
          response=ExecutionOut, status=201, alternatives={202: ExecutionAccepted},
          command=True),
    Route("GET", "/api/v1/executions", list_executions,
          "List executions, newest first (filters: status, action_ref, rule_ref, "
          "trigger_ref, enforcement)",
          Permission("executions", "read"), "executions", query=ExecutionListQuery,
          response=ExecutionOut, envelope="list"),
    Route("GET", "/api/v1/executions/{id}", get_execution, "Show an execution",
          Permission("executions", "read"), "executions", params=IdPath,
          response=ExecutionOut),
]
