"""`attune bench workflows`: what orchestrating a workflow costs on the running platform.

The executor (scheduling + the workflow orchestrator) and the projector run in this
process on the bench's servers. Children are `core.noop`, completed by an *instant
worker* — it takes the work item and appends `started` + `completed` at once, with no
process — so the numbers are the orchestration's, not a shell's start-up:

* **transition overhead**: a chain of noop tasks; for each task, the time from its
  child's `completed` event to the next task's `child_requested` event (both stamped by
  this process's clock): the consumer's delivery, the conductor's decision and the
  atomic append of the workflow's events with the next child's request. p50 and p99.
* **with_items linearity**: one task over N noop items (`concurrency` in flight),
  timed from the workflow's request to its completion, per item, at two sizes; the
  ratio of the per-item times says whether the cost grows linearly with the items.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform as host
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from nats.aio.msg import Msg

from attune.app import executions, packs
from attune.app.context import Context
from attune.bench.platform import bench_context, ready, services
from attune.bench.progress import Progress
from attune.bench.servers import bench_servers
from attune.domain import execution as ex
from attune.errors import UnavailableError
from attune.eventstore.consumer import DurableConsumer
from attune.eventstore.envelope import Meta
from attune.executor.service import WORK_STREAM

PACK = "wfbench"
#: The issue's targets.
TARGET_TRANSITION_P50_MS = 2.0
TARGET_LINEAR_RATIO = 1.2
TERMINAL = frozenset(status.value for status in ex.TERMINAL)


@dataclass(frozen=True)
class Options:
    chain: int = 200
    small: int = 1_000
    large: int = 10_000
    concurrency: int = 50
    nats_url: str | None = None
    database_url: str | None = None


class InstantWorker:
    """Takes shell work items and completes them at once (no process): the children's
    run time drops out of the measure."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def on_work(self, msg: Msg) -> None:
        item = orjson.loads(msg.data)
        execution_id, version = int(item["execution_id"]), int(item["version"])
        requested = await self.ctx.store.read(execution_id)
        assert requested is not None and isinstance(requested.event, ex.ExecutionRequested)
        state = ex.ExecutionState(id=execution_id, status=ex.Status.SCHEDULED,
                                  action_ref=requested.event.action.ref)
        meta = Meta.new(actor="bench-worker")
        state, version = await executions.handle(
            self.ctx, execution_id, ex.Start(worker="bench-instant"), meta=meta,
            msg_id=f"execution:{execution_id}:started", known=(state, version))
        await executions.handle(
            self.ctx, execution_id, ex.Finish(outcome=ex.Outcome(exit_code=0)), meta=meta,
            msg_id=f"execution:{execution_id}:finished", known=(state, version))

    async def run(self, stop: asyncio.Event) -> None:
        consumer = DurableConsumer(self.ctx.nc, stream=WORK_STREAM, durable="worker-shell",
                                   handler=self.on_work, concurrency=64)
        await consumer.run(stop)


def write_pack(root: Path, options: Options) -> Path:
    (root / "workflows").mkdir(parents=True)
    (root / "pack.yaml").write_text(f"ref: {PACK}\nversion: 1.0.0\n")
    tasks = [f"  - {{name: t{i}, action: core.noop"
             + (f", next: [{{do: t{i + 1}}}]}}" if i + 1 < options.chain else "}")
             for i in range(options.chain)]
    (root / "workflows" / "chain.yaml").write_text("tasks:\n" + "\n".join(tasks) + "\n")
    (root / "workflows" / "items.yaml").write_text(
        "parameters:\n  n: {type: integer, required: true}\n"
        "  concurrency: {type: integer, required: true}\n"
        "tasks:\n  - name: each\n    action: core.noop\n"
        "    with_items: \"{{ range(parameters.n) }}\"\n"
        "    concurrency: \"{{ parameters.concurrency }}\"\n")
    return root


async def finished(ctx: Context, execution_id: int, timeout: float) -> list[Any]:
    """Waits on the read model (a stream load per poll would scan the stream from the
    execution's creation: a cost that grows with the run), then loads the events once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await ctx.pool.fetchval("SELECT status FROM executions WHERE id = $1",
                                         execution_id)
        if status in TERMINAL:
            state, _, envelopes = await executions.load(ctx, execution_id)
            if state.status is not ex.Status.COMPLETED:
                raise UnavailableError(f"bench workflow {execution_id} ended "
                                       f"{state.status.value}")
            return envelopes
        await asyncio.sleep(0.1)
    raise UnavailableError(f"bench workflow {execution_id} did not finish in {timeout:.0f} s")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def transitions(ctx: Context, options: Options, progress: Progress) -> dict[str, Any]:
    progress.phase(f"chain of {options.chain} noop tasks", options.chain)
    execution_id = await executions.request(ctx, f"{PACK}.chain", {}, meta=Meta.new())
    await finished(ctx, execution_id, timeout=60 + options.chain)
    progress.update(options.chain)
    flow, _ = await ctx.store.load("workflow", execution_id)
    requested = {e.event.child.task: e.event.at for e in flow  # type: ignore[attr-defined]
                 if e.event.type == "workflow.child_requested"}
    children = await ctx.pool.fetch(
        "SELECT execution_id FROM workflow_children WHERE parent = $1 ORDER BY 1",
        execution_id)
    ended: dict[str, Any] = {}
    for row in children:
        _, _, envelopes = await executions.load(ctx, row["execution_id"])
        first = envelopes[0].event
        assert isinstance(first, ex.ExecutionRequested) and first.workflow_task
        ended[first.workflow_task["task"]] = envelopes[-1].event.at
    gaps = [1000 * (requested[f"t{i + 1}"] - ended[f"t{i}"]).total_seconds()
            for i in range(options.chain - 1) if f"t{i}" in ended]
    return {"tasks": options.chain, "transitions": len(gaps),
            "p50_ms": round(percentile(gaps, 50), 3), "p99_ms": round(percentile(gaps, 99), 3),
            "target_p50_ms": TARGET_TRANSITION_P50_MS,
            "met": percentile(gaps, 50) <= TARGET_TRANSITION_P50_MS}


async def items(ctx: Context, n: int, options: Options, progress: Progress) -> dict[str, Any]:
    progress.phase(f"with_items over {n:,} noop items", n)
    start = time.perf_counter()
    execution_id = await executions.request(
        ctx, f"{PACK}.items", {"n": n, "concurrency": options.concurrency}, meta=Meta.new())
    envelopes = await finished(ctx, execution_id, timeout=120 + n / 10)
    wall = time.perf_counter() - start
    progress.update(n)
    seconds = (envelopes[-1].event.at - envelopes[0].event.at).total_seconds()
    return {"items": n, "concurrency": options.concurrency, "seconds": round(seconds, 3),
            "wall_seconds": round(wall, 3), "per_item_ms": round(1000 * seconds / n, 3)}


async def run(options: Options, progress: Progress) -> dict[str, Any]:
    async with bench_servers(options.nats_url, options.database_url) as servers, \
            bench_context(servers, worker_concurrency=1) as (ctx, _):
        stop = asyncio.Event()
        worker = asyncio.create_task(InstantWorker(ctx).run(stop))
        try:
            async with services(ctx, ("executor", "projector")) as running:
                await ready(ctx, running, api=False)
                with tempfile.TemporaryDirectory(prefix="attune-bench-wf-") as tmp:
                    await packs.register(ctx, write_pack(Path(tmp) / PACK, options),
                                         meta=Meta.new(actor="bench"))
                    deadline = time.monotonic() + 30
                    while not await ctx.pool.fetchval(
                            "SELECT count(*) FROM actions WHERE pack_ref = $1", PACK):
                        if time.monotonic() > deadline:
                            raise UnavailableError("the bench pack was not projected")
                        await asyncio.sleep(0.05)
                chain = await transitions(ctx, options, progress)
                small = await items(ctx, options.small, options, progress)
                large = await items(ctx, options.large, options, progress)
        finally:
            stop.set()
            await asyncio.gather(worker, return_exceptions=True)
    ratio = large["per_item_ms"] / small["per_item_ms"]
    return {
        "machine": {"cpus": os.cpu_count(), "python": host.python_version(),
                    "system": f"{host.system()} {host.machine()}",
                    "load_average_1min": os.getloadavg()[0]},
        "servers": {"durability": servers.durability},
        "children": "core.noop completed by an in-process instant worker (no process)",
        "transition": chain,
        "with_items": {"small": small, "large": large, "ratio": round(ratio, 3),
                       "target_ratio": TARGET_LINEAR_RATIO,
                       "met": ratio <= TARGET_LINEAR_RATIO},
    }
