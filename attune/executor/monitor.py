"""The monitor — one per installation (leased): ends executions that can no longer end
by themselves.

* `running` on a worker whose heartbeat is older than `worker_stale_seconds` -> abandoned
* waiting (requested, scheduling, scheduled) longer than its timeout -> timeout
* running past its timeout plus a grace period (its worker did not stop it) -> timeout
* executions waiting for a policy's rate window are admitted when it opens
* an abandoned execution is run again when ATTUNE_ABANDONED_RETRIES allows it

It reads the executions read model and decides on the stream (load, decide, append),
so a stale read never ends an execution that moved on.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attune.log as log
from attune.app import executions
from attune.app.context import Context
from attune.domain import execution as ex
from attune.errors import AttuneError
from attune.eventstore.envelope import Meta
from attune.eventstore.lease import RENEW_EVERY, Lease
from attune.worker.heartbeat import last_seen

if TYPE_CHECKING:
    from attune.executor.service import Executor

_log = log.get("monitor")
#: A running execution past its timeout gets this long for its worker to stop it.
RUNNING_GRACE = timedelta(seconds=30)

_OVERDUE = """
SELECT id, status FROM executions
WHERE (status IN ('requested', 'scheduling', 'scheduled')
       AND created + make_interval(secs => timeout_seconds) < $1)
   OR (status IN ('running', 'canceling')
       AND started_at + make_interval(secs => timeout_seconds) + $2 < $1)
ORDER BY id LIMIT 500"""
_ABANDONED_CHAIN = """
WITH RECURSIVE chain(id, rerun_of, status) AS (
    SELECT id, rerun_of, status FROM executions WHERE id = $1
    UNION ALL
    SELECT e.id, e.rerun_of, e.status FROM executions e JOIN chain c ON e.id = c.rerun_of
)
SELECT count(*) FROM chain WHERE status = 'abandoned' OR id = $1"""
_RUNNING = """
SELECT worker, array_agg(id ORDER BY id) AS ids FROM executions
WHERE status IN ('running', 'canceling') AND worker IS NOT NULL
  AND worker <> 'attune:conductor'  -- workflows: the executor's conductor runs them
GROUP BY worker"""


class Monitor:
    def __init__(self, ctx: Context, *, owner: str, executor: Executor | None = None,
                 interval: float = 2.0) -> None:
        self.ctx = ctx
        self.executor = executor
        self.lease = Lease(ctx.store.js, "monitor", owner=owner)
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        renewed = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                if loop.time() - renewed >= RENEW_EVERY or not self.lease.held:
                    renewed = loop.time()
                    await self.lease.hold()
                if self.lease.held:
                    try:
                        await self.sweep()
                    except Exception as exc:  # a bad round must not stop the monitor
                        _log.error("monitor.sweep_failed", error=repr(exc), exc_info=exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
        finally:
            await self.lease.release()

    async def sweep(self) -> None:
        if self.executor is not None:
            # rate windows that opened, and admissions interrupted by a crash
            for key in await self.executor.admissions.keys():
                await self.executor.advance(key)
        now = self.ctx.clock()
        for row in await self.ctx.pool.fetch(_OVERDUE, now, RUNNING_GRACE):
            waiting = row["status"] in ("requested", "scheduling", "scheduled")
            reason = ("not started within its timeout" if waiting
                      else "still running past its timeout: its worker did not stop it")
            await self._end(row["id"], ex.TimeOut(reason=reason), "timed_out")
        stale = timedelta(seconds=self.ctx.settings.worker_stale_seconds)
        for row in await self.ctx.pool.fetch(_RUNNING):
            seen = await last_seen(self.ctx.store.js, row["worker"])
            if seen is not None and now - seen <= stale:
                continue
            since = "never" if seen is None else _ago(now, seen)
            for execution_id in row["ids"]:
                if await self._end(execution_id, ex.Abandon(
                        reason=f"worker {row['worker']} stopped sending heartbeats "
                               f"(last: {since})"), "abandoned"):
                    await self._retry(execution_id)

    async def _end(self, execution_id: int, command: ex.ExecutionCommand, what: str) -> bool:
        try:
            await executions.handle(self.ctx, execution_id, command,
                                    meta=Meta.new(actor="monitor"),
                                    msg_id=f"execution:{execution_id}:{what}")
        except AttuneError as exc:  # it moved on meanwhile (finished, cancelled...)
            _log.info("monitor.skipped", execution_id=execution_id, reason=exc.message)
            return False
        _log.warning(f"execution.{what}", execution_id=execution_id)
        return True

    async def _retry(self, execution_id: int) -> None:
        """Run an abandoned execution again, when configured, counting the abandoned
        runs before it (its `rerun_of` chain). The retry's idempotency key is the
        abandoned execution, so a monitor restart never retries twice."""
        allowed = self.ctx.settings.abandoned_retries
        if allowed <= 0:
            return
        abandoned = await self.ctx.pool.fetchval(_ABANDONED_CHAIN, execution_id)
        if abandoned > allowed:
            return
        retry = await executions.rerun(self.ctx, execution_id, {},
                                       meta=Meta.new(actor="monitor"),
                                       idempotency_key=f"retry-of:{execution_id}")
        _log.warning("execution.retried", execution_id=execution_id, retry=retry,
                     attempt=abandoned + 1)


def _ago(now: datetime, then: datetime) -> str:
    return f"{int((now - then).total_seconds())} s ago"
