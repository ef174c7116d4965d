"""Scheduling: `execution.requested` -> (a policy's admission) -> `execution.scheduled`
+ a work message; and, when an execution under a policy ends, its slot goes to the
next one waiting.

Appends carry ids derived from the execution, so a redelivered request never
schedules twice and never queues two work items (invariant 4); admissions are
idempotent too (asking again for a slot gives the same answer).
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
from attune.domain import admission
from attune.domain import execution as ex
from attune.domain.action import ActionDef
from attune.eventstore.consumer import DurableConsumer
from attune.eventstore.envelope import Meta, decode_message
from attune.eventstore.store import EVENTS_STREAM
from attune.eventstore.subjects import work_subject
from attune.executor.admission import Admissions
from attune.executor.placer import Placer

WORK_STREAM = "ATTUNE_WORK"
_log = log.get("executor")


class Executor:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.admissions = Admissions(ctx)
        self.placer = Placer(ctx)

    async def schedule(self, execution_id: int, action: ActionDef, *, meta: Meta,
                       known: tuple[ex.ExecutionState, int] | None = None,
                       admission_key: str | None = None) -> None:
        """Append `scheduled` and hand the execution to its runtime's work queue."""
        queue = await self.placer.queue(execution_id, action, meta=meta, known=known,
                                        admission_key=admission_key)
        if queue is None:
            return  # no capable worker yet: it waits (the placer tries again)
        state, version = await executions.handle(
            self.ctx, execution_id, ex.Schedule(queue=queue, admission_key=admission_key),
            meta=meta, msg_id=f"execution:{execution_id}:scheduled", known=known)
        if state.status is not ex.Status.SCHEDULED:
            return  # already past scheduling (redelivery after the worker took it)
        body = orjson.dumps({"execution_id": execution_id, "version": version})
        await self.ctx.store.js.publish(
            queue, body, stream=WORK_STREAM,
            headers={"Nats-Msg-Id": f"work:{execution_id}:{version}"})

    async def on_requested(self, msg: Msg) -> None:
        env = decode_message(msg.metadata.sequence.stream, msg.subject, msg.data, msg.headers)
        event = env.event
        assert isinstance(event, ex.ExecutionRequested)
        execution_id = env.aggregate_id
        meta = env.meta.caused_by(env)
        with log.bound(execution_id=execution_id, correlation_id=env.meta.correlation_id):
            known = (ex.evolve(None, event, id=execution_id), 0)
            policy = await self.admissions.policy_for(event.action.ref)
            if policy is None:
                await self.schedule(execution_id, event.action, meta=meta, known=known)
                return
            key = admission.group_key(policy, event.action.ref, event.parameters)
            verdict = await self.admissions.update(key, lambda state: admission.request(
                state.model_copy(update={"action_ref": event.action.ref}), policy,
                execution_id, self.ctx.clock()))
            match verdict.outcome:
                case "admit":
                    await self.schedule(execution_id, event.action, meta=meta,
                                        known=known, admission_key=key)
                case "queue":
                    await executions.handle(
                        self.ctx, execution_id, ex.Queue(reason=verdict.reason,
                                                         admission_key=key),
                        meta=meta, msg_id=f"execution:{execution_id}:queued", known=known)
                case "reject":
                    await executions.handle(
                        self.ctx, execution_id, ex.Cancel(by=f"policy: {verdict.reason}"),
                        meta=meta, msg_id=f"execution:{execution_id}:rejected", known=known)

    async def on_ended(self, msg: Msg) -> None:
        """An execution ended: free its slot and schedule who gets in."""
        env = decode_message(msg.metadata.sequence.stream, msg.subject, msg.data, msg.headers)
        execution_id = env.aggregate_id
        _, _, envelopes = await executions.load(self.ctx, execution_id)
        events: list[ex.ExecutionEvent] = [e.event for e in envelopes]  # type: ignore[misc]
        key = ex.admission_key(events)
        if key is None:
            return
        await self.advance(key, released=execution_id, meta=env.meta.caused_by(env))

    async def advance(self, key: str, *, released: int | None = None,
                      meta: Meta | None = None) -> None:
        """Release `released` (if any), admit whom the policy lets in now, and make sure
        every admitted execution is scheduled (this also repairs a crash between an
        admission and its scheduling)."""
        action_ref = (await self.admissions.read(key)).action_ref
        if not action_ref:
            return
        policy = await self.admissions.policy_for(action_ref)
        now = self.ctx.clock()

        def decide(state: admission.Admission
                   ) -> tuple[admission.Admission, admission.Admission]:
            if released is not None:
                state = admission.release(state, released)
            state = (admission.admit_all(state) if policy is None  # the policy went away
                     else admission.admit_waiting(state, policy, now)[0])
            return state, state

        state = await self.admissions.update(key, decide)
        # the read model spares a stream load for the admitted ones already on their way
        # (one it has not seen yet is loaded: the stream decides)
        moving = {r["id"] for r in await self.ctx.pool.fetch(
            "SELECT id FROM executions WHERE id = ANY($1::bigint[]) "
            "AND status NOT IN ('requested', 'scheduling')", state.running)}
        for execution_id in state.running:
            if execution_id in moving:
                continue
            current, version, envelopes = await executions.load(self.ctx, execution_id)
            if current.status in (ex.Status.REQUESTED, ex.Status.SCHEDULING):
                requested = envelopes[0].event
                assert isinstance(requested, ex.ExecutionRequested)
                await self.schedule(execution_id, requested.action,
                                    meta=meta or Meta.new(actor="executor"),
                                    known=(current, version), admission_key=key)

    async def run(self, stop: asyncio.Event) -> None:
        from attune.executor.enforcer import Enforcer
        from attune.executor.monitor import Monitor

        requests = DurableConsumer(self.ctx.nc, stream=EVENTS_STREAM, durable="executor",
                                   handler=self.on_requested, concurrency=256)
        endings = DurableConsumer(self.ctx.nc, stream=EVENTS_STREAM, durable="releaser",
                                  handler=self.on_ended, concurrency=64)
        owner = f"executor-{socket.gethostname()}-{os.getpid()}-{id(self)}"
        await asyncio.gather(requests.run(stop), endings.run(stop),
                             self.placer.run(self.schedule, stop),
                             Enforcer(self.ctx).run(stop),
                             Monitor(self.ctx, owner=owner, executor=self).run(stop))
