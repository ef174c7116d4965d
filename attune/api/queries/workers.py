"""Workers as their heartbeats and the cordon list show them."""

from __future__ import annotations

from datetime import timedelta

from attune.api.models.workers import WorkerOut
from attune.app.context import Context
from attune.domain.versions import select_best
from attune.errors import NotFoundError
from attune.worker import placement
from attune.worker.placement import WorkerInfo


def _out(ctx: Context, worker: WorkerInfo) -> WorkerOut:
    stale = timedelta(seconds=ctx.settings.worker_stale_seconds)
    runtimes: dict[str, str | None] = {}
    for runtime in worker.runtimes:
        versions = (worker.runtime_versions.get(f"core.{runtime}")
                    or worker.runtime_versions.get(runtime) or [])
        runtimes[runtime] = select_best(versions, None) if versions else None
    return WorkerOut(
        name=worker.name, alive=worker.alive(ctx.clock(), stale),
        cordoned=worker.cordon is not None,
        cordoned_by=worker.cordon.by if worker.cordon else None,
        cordon_reason=(worker.cordon.reason or None) if worker.cordon else None,
        runtimes=runtimes, labels=worker.labels, running=worker.running,
        concurrency=worker.concurrency, last_seen=worker.at)


async def list_all(ctx: Context) -> list[WorkerOut]:
    return [_out(ctx, w) for w in await placement.workers(ctx.store.js)]


async def get(ctx: Context, name: str) -> WorkerOut:
    for worker in await list_all(ctx):
        if worker.name == name:
            return worker
    raise NotFoundError(f"worker {name!r} not found (or silent for 90 s): GET /api/v1/workers "
                        "lists the workers there are")
