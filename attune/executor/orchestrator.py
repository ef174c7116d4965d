"""The executor's side of workflows: it starts the conductor of each requested workflow
execution, feeds it the endings of its children and its timers, and follows a
workflow execution cancelled or timed out from outside (`attune.app.workflows`
does the driving; this module wires it to the stream and the clock).

* `split` takes workflow executions out of a batch of requests (they are not
  scheduled on a worker) and `begin` starts them.
* The durable consumer `workflows` (streams/streams.yaml) receives every terminal
  execution event and every `cancel_requested`: a child's ending goes to its parent
  workflow, a workflow cancelled from outside cancels its conductor.
* `core.ask` executions are begun here too: they wait for their inquiry's response
  (`attune.app.inquiries`), whose timeout is a timer like the others.
* Timers (task delays, retry waits) fire in process at their due time; the sweep —
  one replica at a time, under the `workflow-timers` lease — fires the due ones of the
  `workflow_timers` read model too, so a restart loses none. A timer that fires twice
  gives an empty decision the second time.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from nats.aio.msg import Msg

import attune.log as log
from attune.app import inquiries
from attune.app.context import Context
from attune.app.workflow_children import is_workflow
from attune.app.workflows import CONDUCTOR, Conducting
from attune.domain import execution as ex
from attune.eventstore.consumer import DurableConsumer
from attune.eventstore.envelope import Envelope, Meta, decode_message
from attune.eventstore.lease import RENEW_EVERY, Lease
from attune.eventstore.store import EVENTS_STREAM
from attune.workflow import TimerFired

_log = log.get("orchestrator")
SWEEP_EVERY = 1.0
#: Every this many sweeps, stalled conductor-run executions are looked at again.
REPAIR_EVERY = 30
REPAIR_AFTER = timedelta(seconds=60)


class Orchestrator:
    def __init__(self, ctx: Context, *, owner: str) -> None:
        self.ctx = ctx
        self.conducting = Conducting(ctx, on_timer=self._timer)
        self.lease = Lease(ctx.store.js, "workflow-timers", owner=owner)
        self._handles: dict[tuple[int, str], asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def split(envelopes: list[Envelope]) -> tuple[list[Envelope], list[Envelope]]:
        """(requests of ordinary actions, requests of workflows)."""
        plain: list[Envelope] = []
        flows: list[Envelope] = []
        for env in envelopes:
            requested = env.event
            assert isinstance(requested, ex.ExecutionRequested)
            conducted = is_workflow(requested.action) or inquiries.is_ask(
                requested.action.ref)
            (flows if conducted else plain).append(env)
        return plain, flows

    async def begin(self, envelopes: list[Envelope]) -> None:
        await asyncio.gather(*(self._begin(env) for env in envelopes))

    async def _begin(self, env: Envelope) -> None:
        requested = env.event
        assert isinstance(requested, ex.ExecutionRequested)
        if is_workflow(requested.action):
            await self.conducting.begin(env)
        else:
            await inquiries.begin(self.ctx, env, on_timeout=self._inquiry_timeout)

    async def on_execution_event(self, msg: Msg) -> None:
        env = decode_message(msg.metadata.sequence.stream, msg.subject, msg.data, msg.headers)
        await self.conducting.child_ended(env)

    # -- timers -----------------------------------------------------------------------

    def _timer(self, execution_id: int, timer: str, due: datetime | None) -> None:
        key = (execution_id, timer)
        handle = self._handles.pop(key, None)
        if handle is not None:
            handle.cancel()
        if due is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, (due - self.ctx.clock()).total_seconds())
        self._handles[key] = loop.call_later(delay, self._fire, execution_id, timer)

    def _fire(self, execution_id: int, timer: str) -> None:
        self._handles.pop((execution_id, timer), None)
        task = asyncio.create_task(self._fire_now(execution_id, timer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fire_now(self, execution_id: int, timer: str) -> None:
        if execution_id < 0:
            await self._time_out_inquiry(-execution_id)
            return
        try:
            await self.conducting.command(execution_id, TimerFired(timer=timer),
                                          meta=Meta.new(actor="executor"))
        except Exception as exc:  # the sweep fires it again
            _log.error("workflow.timer_failed", execution_id=execution_id, timer=timer,
                       error=repr(exc), exc_info=exc)

    def _inquiry_timeout(self, inquiry_id: int, due: datetime) -> None:
        self._timer(-inquiry_id, "inquiry", due)  # negative: an inquiry, not a workflow

    async def _time_out_inquiry(self, inquiry_id: int) -> None:
        try:
            await inquiries.time_out(self.ctx, inquiry_id, meta=Meta.new(actor="executor"))
        except Exception as exc:  # the sweep tries again
            _log.error("inquiry.timeout_failed", inquiry=inquiry_id, error=repr(exc),
                       exc_info=exc)

    async def repair(self) -> None:
        """Conductor-run executions that have not moved for a while are begun again: a
        crash may have come between their start and their conductor's (or inquiry's)
        first append, or between a workflow's recorded end and its execution's. Begin
        is idempotent, so a healthy one is left as it is."""
        rows = await self.ctx.pool.fetch(
            "SELECT id FROM executions WHERE worker = $1 AND status IN ('running', "
            "'canceling') AND updated < $2 ORDER BY updated LIMIT 100", CONDUCTOR,
            self.ctx.clock() - REPAIR_AFTER)
        for row in rows:
            first = await self.ctx.store.read(row["id"])
            if first is not None and isinstance(first.event, ex.ExecutionRequested):
                await self._begin(first)

    async def sweep(self) -> None:
        for row in await self.ctx.pool.fetch(
                "SELECT id FROM inquiries WHERE status = 'pending' AND timeout_at <= $1 "
                "ORDER BY timeout_at LIMIT 500", self.ctx.clock()):
            if (-row["id"], "inquiry") not in self._handles:
                await self._time_out_inquiry(row["id"])
        rows = await self.ctx.pool.fetch(
            "SELECT execution_id, timer FROM workflow_timers WHERE due <= $1 "
            "ORDER BY due LIMIT 500", self.ctx.clock())
        for row in rows:
            if (row["execution_id"], row["timer"]) not in self._handles:
                await self._fire_now(row["execution_id"], row["timer"])

    async def _sweeps(self, stop: asyncio.Event) -> None:
        renewed = 0.0
        rounds = 0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                if loop.time() - renewed >= RENEW_EVERY or not self.lease.held:
                    renewed = loop.time()
                    await self.lease.hold()
                if self.lease.held:
                    try:
                        await self.sweep()
                        rounds += 1
                        if rounds % REPAIR_EVERY == 0:
                            await self.repair()
                    except Exception as exc:  # a bad round must not stop the sweeps
                        _log.error("workflow.sweep_failed", error=repr(exc), exc_info=exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), SWEEP_EVERY)
        finally:
            await self.lease.release()

    async def run(self, stop: asyncio.Event) -> None:
        endings = DurableConsumer(self.ctx.nc, stream=EVENTS_STREAM, durable="workflows",
                                  handler=self.on_execution_event, concurrency=64)
        try:
            await asyncio.gather(endings.run(stop), self._sweeps(stop))
        finally:
            for handle in self._handles.values():
                handle.cancel()
            self._handles.clear()
