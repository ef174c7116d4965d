"""Workers: who runs actions; cordon one (it takes no new executions) and uncordon it."""

from __future__ import annotations

from aiohttp import web

from attune.api import envelopes
from attune.api.models.workers import CordonRequest, WorkerOut, WorkerPath
from attune.api.queries import workers as reads
from attune.api.routing import Call, Permission, Route
from attune.worker import placement


async def list_workers(call: Call) -> web.Response:
    return envelopes.json_response({"data": [envelopes.dump(w)
                                             for w in await reads.list_all(call.ctx)]})


async def get_worker(call: Call) -> web.Response:
    return envelopes.single(await reads.get(call.ctx, call.path_as(WorkerPath).name))


async def cordon(call: Call) -> web.Response:
    name = call.path_as(WorkerPath).name
    await reads.get(call.ctx, name)  # 404 for a worker nobody knows
    reason = call.body_as(CordonRequest).reason
    await placement.set_cordon(call.ctx.store.js, name, placement.Cordon(
        by=call.user.login, reason=reason, at=call.ctx.clock().isoformat()))
    return envelopes.single(await reads.get(call.ctx, name))


async def uncordon(call: Call) -> web.Response:
    name = call.path_as(WorkerPath).name
    await reads.get(call.ctx, name)
    await placement.set_cordon(call.ctx.store.js, name, None)
    return envelopes.single(await reads.get(call.ctx, name))


ROUTES = [
    Route("GET", "/api/v1/workers", list_workers,
          "Workers with a recent heartbeat: runtimes (and versions), labels, running "
          "executions, whether cordoned",
          Permission("workers", "read"), "workers", response=WorkerOut),
    Route("GET", "/api/v1/workers/{name}", get_worker, "Show a worker",
          Permission("workers", "read"), "workers", params=WorkerPath, response=WorkerOut),
    Route("POST", "/api/v1/workers/{name}/cordon", cordon,
          "Cordon a worker: it takes no new executions (what it runs finishes) and none "
          "is placed on it",
          Permission("workers", "manage"), "workers", params=WorkerPath, body=CordonRequest,
          response=WorkerOut),
    Route("POST", "/api/v1/workers/{name}/uncordon", uncordon,
          "Uncordon a worker: it takes executions again",
          Permission("workers", "manage"), "workers", params=WorkerPath, response=WorkerOut),
]
