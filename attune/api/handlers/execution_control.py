"""Executions under way: cancel one, run one again."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.models import ExecutionAccepted, ExecutionOut, IdPath, RerunRequest
from attune.api.queries import executions as reads
from attune.api.routing import Call, Permission, Route
from attune.app import executions


async def _answer(call: Call, execution_id: int, seq: int, status: int) -> web.Response:
    if await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS):
        found = await reads.find(call.ctx.pool, execution_id)
        if found is not None:
            return envelopes.single(found, status=status, sequence=seq)
    return envelopes.single(ExecutionAccepted(id=execution_id, action_ref=""), status=202,
                            sequence=seq)


async def cancel(call: Call) -> web.Response:
    execution_id = call.path_as(IdPath).id
    _, seq = await executions.cancel(call.ctx, execution_id, by=call.user.login,
                                     meta=call.meta)
    return await _answer(call, execution_id, seq, 200)


async def rerun(call: Call) -> web.Response:
    body = call.body_as(RerunRequest)
    new_id = await executions.rerun(call.ctx, call.path_as(IdPath).id, body.parameters,
                                    meta=call.meta, requested_by=call.user.id)
    return await _answer(call, new_id, new_id, 201)


ROUTES = [
    Route("POST", "/api/v1/executions/{id}/cancel", cancel,
          "Cancel an execution: at once when no worker has it yet, else its worker stops "
          "it (status canceling, then cancelled); 409 when it already ended",
          Permission("executions", "cancel"), "executions", params=IdPath,
          response=ExecutionOut, command=True),
    Route("POST", "/api/v1/executions/{id}/rerun", rerun,
          "Run an execution's action again with its parameters, some overridden",
          Permission("actions", "execute"), "executions", params=IdPath, body=RerunRequest,
          response=ExecutionOut, status=201, alternatives={202: ExecutionAccepted},
          command=True),
]
