"""Scheduling: `execution.requested` -> `execution.scheduled` + a work message.

Both appends carry ids derived from the execution, so a redelivered request
never schedules twice and never queues two work items (invariant 4).
"""

from __future__ import annotations

import asyncio
import os
import socket

import orjson
from nats.aio.msg import Msg

import attune.log as log
from attune.app import executions
from attune.app.context import Context
from attune.domain import execution as ex
from attune.eventstore.consumer import DurableConsumer
from attune.eventstore.envelope import decode_message
from attune.eventstore.store import EVENTS_STREAM
from attune.eventstore.subjects import work_subject

WORK_STREAM = "ATTUNE_WORK"
_log = log.get("executor")


class Executor:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def on_requested(self, msg: Msg) -> None:
        env = decode_message(msg.metadata.sequence.stream, msg.subject, msg.data, msg.headers)
        event = env.event
        assert isinstance(event, ex.ExecutionRequested)
        execution_id = env.aggregate_id
        queue = work_subject(event.action.runtime)
        with log.bound(execution_id=execution_id, correlation_id=env.meta.correlation_id):
            state = ex.evolve(None, event, id=execution_id)
            state, version = await executions.handle(
                self.ctx, execution_id, ex.Schedule(queue=queue), meta=env.meta.caused_by(env),
                msg_id=f"execution:{execution_id}:scheduled", known=(state, 0))
            if state.status is not ex.Status.SCHEDULED:
                return  # already past scheduling (redelivery after the worker took it)
            body = orjson.dumps({"execution_id": execution_id, "version": version})
            await self.ctx.store.js.publish(
                queue, body, stream=WORK_STREAM,
                headers={"Nats-Msg-Id": f"work:{execution_id}:{version}"})
            _log.debug("execution.scheduled", queue=queue)

    async def run(self, stop: asyncio.Event) -> None:
        from attune.executor.enforcer import Enforcer
        from attune.executor.monitor import Monitor

        consumer = DurableConsumer(self.ctx.nc, stream=EVENTS_STREAM, durable="executor",
                                   handler=self.on_requested, concurrency=256)
        owner = f"executor-{socket.gethostname()}-{os.getpid()}-{id(self)}"
        await asyncio.gather(consumer.run(stop), Enforcer(self.ctx).run(stop),
                             Monitor(self.ctx, owner=owner).run(stop))
