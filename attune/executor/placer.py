"""The executor's side of placement (attune/worker/placement.py): the work subject of
an execution, or — with no capable worker — `execution.queued` with the reason, and a
sweep that places those waiting as soon as a capable worker shows up.

Several executors may sweep at once: scheduling is idempotent (the `scheduled` event and
the work item carry ids derived from the execution), so the first one wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from datetime import timedelta
from typing import Protocol

import attune.log as log
from attune.app import executions
from attune.app.context import Context
from attune.domain import execution as ex
from attune.domain.action import ActionDef
from attune.eventstore.envelope import Meta
from attune.eventstore.subjects import work_subject
from attune.worker import placement
from attune.worker.placement import NoCapableWorkerError, WorkerInfo

#: The workers' heartbeats are read at most this often (bursts of placed executions).
WORKERS_TTL = 1.0
SWEEP_SECONDS = 2.0
_WAITING = """
SELECT id FROM executions WHERE status = 'scheduling' AND starts_with(waiting_reason, $1)
ORDER BY id LIMIT 500"""
_log = log.get("placer")

class Schedule(Protocol):
    """Executor.schedule."""

    async def __call__(self, execution_id: int, action: ActionDef, *, meta: Meta,
                       known: tuple[ex.ExecutionState, int] | None = None,
                       admission_key: str | None = None) -> None: ...


class Placer:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._workers: list[WorkerInfo] = []
        self._read_at = float("-inf")

    async def workers(self) -> list[WorkerInfo]:
        loop = asyncio.get_running_loop()
        if loop.time() - self._read_at > WORKERS_TTL:
            self._workers = await placement.workers(self.ctx.store.js)
            self._read_at = loop.time()
        return self._workers

    async def queue(self, execution_id: int, action: ActionDef, *, meta: Meta,
                    known: tuple[ex.ExecutionState, int] | None,
                    admission_key: str | None) -> str | None:
        """The work subject for this execution; None when it has to wait (then it is
        `scheduling` with the reason, unless it was already)."""
        if not placement.needed(action):
            return work_subject(action.runtime)
        try:
            pool = placement.choose(
                action, await self.workers(), now=self.ctx.clock(),
                stale=timedelta(seconds=self.ctx.settings.worker_stale_seconds))
        except NoCapableWorkerError as exc:
            reason = str(exc)
            digest = hashlib.sha256(reason.encode()).hexdigest()[:12]
            await executions.handle(
                self.ctx, execution_id, ex.Queue(reason=reason, admission_key=admission_key),
                meta=meta, msg_id=f"execution:{execution_id}:waiting:{digest}", known=known)
            return None
        return placement.pool_subject(action.runtime, pool)

    async def run(self, schedule: Schedule, stop: asyncio.Event) -> None:
        """Every `SWEEP_SECONDS`, try again to place the executions waiting for a worker."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)
            if stop.is_set():
                return
            try:
                await self.sweep(schedule)
            except Exception as exc:  # a bad round must not stop the sweeps
                _log.error("placer.sweep_failed", error=repr(exc), exc_info=exc)

    async def sweep(self, schedule: Schedule) -> None:
        rows = await self.ctx.pool.fetch(_WAITING, placement.WAITING)
        if not rows:
            return
        self._read_at = float("-inf")  # fresh heartbeats for this round
        for row in rows:
            state, version, envelopes = await executions.load(self.ctx, row["id"])
            if state.status is not ex.Status.SCHEDULING:
                continue
            requested = envelopes[0].event
            assert isinstance(requested, ex.ExecutionRequested)
            events: list[ex.ExecutionEvent] = [e.event for e in envelopes]  # type: ignore[misc]
            await schedule(row["id"], requested.action, meta=Meta.new(actor="executor"),
                           known=(state, version), admission_key=ex.admission_key(events))
