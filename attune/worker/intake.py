"""How a worker takes work: durable consumers on its runtimes' shared queues
(`attune.work.<runtime>`) and on its pool's (`attune.work.<runtime>.pool.<pool>`, see
attune/worker/placement.py), all paused while the worker is cordoned.

Pausing stops fetching; what the worker runs goes on to its end and is acked as usual.
"""

from __future__ import annotations

import asyncio
import contextlib

from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.kv import KeyValue

import attune.log as log
from attune.app.context import Context
from attune.eventstore.consumer import DurableConsumer, Handler
from attune.executor.service import WORK_STREAM
from attune.worker import placement

#: How often a worker looks whether it was cordoned or uncordoned.
CORDON_POLL_SECONDS = 1.0
#: A pool's consumer outlives its last worker this long (a restart finds it again).
POOL_INACTIVE_SECONDS = 24 * 3600.0
_log = log.get("worker.intake")


async def ensure_pool_consumers(ctx: Context, runtimes: tuple[str, ...], pool: str) -> None:
    """Create (or keep) the durable consumer of this pool for each runtime."""
    js = ctx.store.js
    for runtime in runtimes:
        await js.add_consumer(WORK_STREAM, ConsumerConfig(
            durable_name=placement.pool_durable(runtime, pool),
            description=f"{runtime} actions placed on pool {pool}",
            filter_subject=placement.pool_subject(runtime, pool),
            ack_policy=AckPolicy.EXPLICIT, ack_wait=60.0, max_deliver=10,
            max_ack_pending=1000, inactive_threshold=POOL_INACTIVE_SECONDS))


class CordonedError(Exception):
    pass


class Intake:
    def __init__(self, ctx: Context, *, worker: str, runtimes: tuple[str, ...], pool: str,
                 handler: Handler) -> None:
        self.ctx = ctx
        self.worker = worker
        self.runtimes = runtimes
        self.pool = pool
        self.handler = handler
        self.cordoned = False
        self._cordons: KeyValue | None = None

    async def _take(self, msg: Msg) -> None:
        if self.cordoned:
            # fetched just before the cordon was noticed: back to the queue (the consumer
            # naks a failed message) for a worker that takes work
            raise CordonedError(f"worker {self.worker} is cordoned: the work item goes "
                                "back to its queue")
        await self.handler(msg)

    def _consumers(self) -> list[DurableConsumer]:
        durables = [*(f"worker-{rt}" for rt in self.runtimes),
                    *(placement.pool_durable(rt, self.pool) for rt in self.runtimes)]
        return [DurableConsumer(self.ctx.nc, stream=WORK_STREAM, durable=durable,
                                handler=self._take,
                                concurrency=self.ctx.settings.worker_concurrency)
                for durable in durables]

    async def _cordoned(self) -> bool:
        try:
            if self._cordons is None:
                self._cordons = await self.ctx.store.js.key_value(placement.CORDONS)
            return await placement.is_cordoned(self._cordons, self.worker)
        except Exception as exc:  # NATS away: keep doing what we did
            _log.warning("worker.cordon_check_failed", error=repr(exc))
            return self.cordoned

    async def _ensure_consumers(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await ensure_pool_consumers(self.ctx, self.runtimes, self.pool)
                return
            except Exception as exc:  # NATS not there yet: try again
                _log.warning("worker.pool_consumers_failed", error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), CORDON_POLL_SECONDS)

    async def run(self, stop: asyncio.Event) -> None:
        await self._ensure_consumers(stop)
        while not stop.is_set():
            self.cordoned = await self._cordoned()
            if self.cordoned:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), CORDON_POLL_SECONDS)
                continue
            _log.info("worker.taking_work", worker=self.worker, pool=self.pool)
            pause = asyncio.Event()
            taking = asyncio.gather(*(c.run(pause) for c in self._consumers()))
            while not stop.is_set() and not await self._cordoned():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), CORDON_POLL_SECONDS)
            if not stop.is_set():
                self.cordoned = True
                _log.info("worker.cordoned", worker=self.worker)
            pause.set()
            await taking  # running actions end first
