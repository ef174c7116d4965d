"""Scheduling: `execution.requested` -> (a policy's admission) -> `execution.scheduled`
+ a work message; and, when an execution under a policy ends, its slot goes to the
next one waiting.

Appends carry ids derived from the execution, so a redelivered request never
schedules twice and never queues two work items (invariant 4); admissions are
idempotent too (asking again for a slot gives the same answer).

Requests come in batches: those no policy governs (the policy as of the request's
position, from the rule book) are scheduled together — one atomic append of their
`scheduled` events, one atomic publish of their work items; a batch that meets a
request handled before (a redelivery) is redone one by one.
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
from attune.errors import ConcurrencyError, DuplicateAppendError
from attune.eventstore.consumer import BatchConsumer, DurableConsumer
from attune.eventstore.envelope import Envelope, Meta, decode_message
from attune.eventstore.store import EVENTS_STREAM, Append, publish_atomic_many
from attune.eventstore.subjects import work_subject
from attune.executor.admission import Admissions
from attune.executor.orchestrator import Orchestrator
from attune.executor.placer import Placer
from attune.executor.rulebook import RuleBook
from attune.worker import placement

WORK_STREAM = "ATTUNE_WORK"
_log = log.get("executor")


class Executor:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.admissions = Admissions(ctx)
        self.placer = Placer(ctx)
        self.rulebook = RuleBook(ctx.nc, ctx.pool)
        # hook: workflows (attune/executor/orchestrator.py)
        self.orchestrator = Orchestrator(
            ctx, owner=f"executor-{socket.gethostname()}-{os.getpid()}-{id(self)}")

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
        subject, body, headers = _work(queue, execution_id, version)
        await self.ctx.store.js.publish(subject, body, stream=WORK_STREAM, headers=headers)

    async def on_requests(self, msgs: list[Msg]) -> None:
        """A batch of `execution.requested`: the free ones scheduled together, the ones a
        policy governs admitted one by one."""
        envelopes = [decode_message(m.metadata.sequence.stream, m.subject, m.data, m.headers)
                     for m in msgs]
        # hook: workflow executions run in the conductor, not on a worker (orchestrator.py)
        envelopes, flows = self.orchestrator.split(envelopes)
        if flows:
            await self.orchestrator.begin(flows)
        if not envelopes:
            return
        await self.rulebook.ready_for(max(env.seq for env in envelopes))
        free: list[Envelope] = []
        governed: list[Envelope] = []
        for env in envelopes:
            assert isinstance(env.event, ex.ExecutionRequested)
            policy = self.rulebook.policy_for(env.event.action.ref)
            placed = placement.needed(env.event.action)  # placed one by one
            (free if policy is None and not placed else governed).append(env)
        await asyncio.gather(self._schedule_free(free),
                             *(self.on_requested(env) for env in governed))

    async def _schedule_free(self, envelopes: list[Envelope]) -> None:
        if not envelopes:
            return
        now = self.ctx.clock()
        appends: list[Append] = []
        queues: list[str] = []
        for env in envelopes:
            requested = env.event
            assert isinstance(requested, ex.ExecutionRequested)
            queues.append(work_subject(requested.action.runtime))
            command = ex.Schedule(queue=queues[-1])
            [scheduled] = ex.decide(ex.evolve(None, requested, id=env.seq), command, now=now)
            appends.append(Append(env.seq, scheduled, 0, f"execution:{env.seq}:scheduled",
                                  env.meta.caused_by(env)))
        try:
            versions = await self.ctx.store.append_many(appends, meta=appends[0].meta or
                                                        Meta.new(actor="executor"))
        except (ConcurrencyError, DuplicateAppendError):
            # some were scheduled before (a redelivery): one by one, from their state
            await asyncio.gather(*(self.on_requested(env) for env in envelopes))
            return
        work = [_work(queue, env.seq, version)
                for env, queue, version in zip(envelopes, queues, versions, strict=True)]
        try:
            await publish_atomic_many(self.ctx.nc, work)
        except DuplicateAppendError:  # queued before: the work queue deduplicates singly
            await asyncio.gather(*(self.ctx.store.js.publish(
                subject, body, stream=WORK_STREAM, headers=headers)
                for subject, body, headers in work))

    async def on_requested(self, env: Envelope) -> None:
        """One request, on its own: asks its policy's admission, or schedules it."""
        event = env.event
        assert isinstance(event, ex.ExecutionRequested)
        execution_id = env.aggregate_id
        meta = env.meta.caused_by(env)
        with log.bound(execution_id=execution_id, correlation_id=env.meta.correlation_id):
            known = (ex.evolve(None, event, id=execution_id), 0)
            await self.rulebook.ready_for(env.seq)
            policy = self.rulebook.policy_for(event.action.ref)
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
        await self.rulebook.loaded.wait()
        policy = self.rulebook.policy_for(action_ref)
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

        requests = BatchConsumer(self.ctx.nc, stream=EVENTS_STREAM, durable="executor",
                                 handler=self.on_requests, batch_size=256, batches=2)
        endings = DurableConsumer(self.ctx.nc, stream=EVENTS_STREAM, durable="releaser",
                                  handler=self.on_ended, concurrency=64)
        owner = f"executor-{socket.gethostname()}-{os.getpid()}-{id(self)}"
        await asyncio.gather(self.rulebook.run(stop), requests.run(stop), endings.run(stop),
                             self.placer.run(self.schedule, stop),
                             Enforcer(self.ctx, self.rulebook).run(stop),
                             Monitor(self.ctx, owner=owner, executor=self).run(stop),
                             self.orchestrator.run(stop))  # hook: workflows


def _work(queue: str, execution_id: int, version: int) -> tuple[str, bytes, dict[str, str]]:
    """The work item of a scheduled execution: subject, body, headers (its msg id makes a
    second publish of the same scheduling a no-op)."""
    return (queue, orjson.dumps({"execution_id": execution_id, "version": version}),
            {"Nats-Msg-Id": f"work:{execution_id}:{version}"})
