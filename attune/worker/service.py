"""Taking work off `attune.work.<runtime>` and driving the execution through
started -> completed | failed | timeout | cancelled. The work message is acked only
after the outcome is appended; a redelivered message for an execution already running
(its worker died mid-action) ends it `abandoned`, never runs it twice.

Cancellation reaches the worker as the `execution.cancel_requested` event itself: every
worker subscribes to those subjects and stops the process of an execution it runs."""

from __future__ import annotations

import asyncio
import os
import socket

import orjson
from nats.aio.msg import Msg

import attune.log as log
from attune.app import artifact_results, executions
from attune.app.context import Context
from attune.domain import execution as ex
from attune.domain.action import Runtime
from attune.eventstore.envelope import Meta
from attune.security.crypto import is_sealed
from attune.worker import facilities, heartbeat, placement, runner
from attune.worker.intake import Intake
from attune.worker.logs import LogWriter
from attune.worker.warm_pool import WarmPools

_log = log.get("worker")
RUNTIMES: tuple[Runtime, ...] = ("shell", "python", "nodejs", "native", "http")


class Worker:
    def __init__(self, ctx: Context, *, runtimes: tuple[Runtime, ...] = RUNTIMES) -> None:
        self.ctx = ctx
        self.runtimes = runtimes
        self.name = ctx.settings.worker_name or f"{socket.gethostname()}-{os.getpid()}"
        #: Executions this worker is running, and the switch that cancels each.
        self.cancels: dict[int, asyncio.Event] = {}
        #: Runtime catalogue, pack environments (attune/worker/facilities.py).
        self.facilities = facilities.open_facilities(ctx)
        #: Available versions per runtime ref, once verified at start.
        self.runtime_versions: dict[str, list[str]] = {}
        #: Where placed executions reach it (attune/worker/placement.py).
        self.labels = ctx.settings.worker_labels
        self.pool = placement.pool_of(self.labels)
        #: Pre-started Python interpreters Python actions fork from (None: cold starts).
        self.warm = WarmPools() if ctx.settings.warm_python else None

    async def on_work(self, msg: Msg) -> None:
        work = orjson.loads(msg.data)
        execution_id = int(work["execution_id"])
        with log.bound(execution_id=execution_id):
            requested = await self.ctx.store.read(execution_id)
            if requested is None or not isinstance(requested.event, ex.ExecutionRequested):
                _log.error("work.unknown_execution")
                return
            meta = Meta(correlation_id=requested.meta.correlation_id,
                        causation_id=msg.header.get("Nats-Msg-Id") if msg.header else None,
                        actor=requested.meta.actor)
            if msg.metadata.num_delivered == 1:
                # hot path: the work message states the version the executor left
                state = ex.ExecutionState(id=execution_id, status=ex.Status.SCHEDULED,
                                          action_ref=requested.event.action.ref)
                version = int(work["version"])
            else:
                state, version, _ = await executions.load(self.ctx, execution_id)
            if state.status is ex.Status.RUNNING:
                await executions.handle(
                    self.ctx, execution_id,
                    ex.Abandon(reason=f"worker {state.worker} was lost while running it"),
                    meta=meta, msg_id=f"execution:{execution_id}:abandoned",
                    known=(state, version))
                return
            # registered before `started` is appended, so no cancellation can slip between
            cancel = self.cancels.setdefault(execution_id, asyncio.Event())
            try:
                state, version = await executions.handle(
                    self.ctx, execution_id, ex.Start(worker=self.name), meta=meta,
                    msg_id=f"execution:{execution_id}:started", known=(state, version))
                if state.status is not ex.Status.RUNNING or state.worker != self.name:
                    return
                req = requested.event
                parameters = {k: (self.ctx.sealer.open(v) if is_sealed(v) else v)
                              for k, v in req.parameters.items()}
                logs = LogWriter(self.ctx.store.js, execution_id,
                                 cap=self.ctx.settings.output_cap_bytes)
                logs.start()
                try:
                    outcome = await runner.run(runner.RunRequest(
                        execution_id=execution_id, action=req.action,
                        pack_path=req.pack_path, parameters=parameters,
                        env_vars=req.env_vars, timeout_seconds=req.timeout_seconds,
                        api_url=self.ctx.settings.public_api_url,
                        api_token=facilities.execution_token(self.ctx, execution_id, req),
                        rule_ref=req.rule_ref, trigger_ref=req.trigger_ref),
                        cancel, logs, facilities=self.facilities,
                        spawner=self.warm.spawn if self.warm and req.action.runtime == "python"
                        else None)
                finally:
                    await logs.close()  # the whole output is readable before the outcome
                # files the action wrote become artifact versions; a large result, one too
                outcome = await artifact_results.settle(self.ctx, execution_id,
                                                        req.action.ref, outcome, meta=meta)
                await executions.handle(
                    self.ctx, execution_id, ex.Finish(outcome=outcome), meta=meta,
                    msg_id=f"execution:{execution_id}:finished", known=(state, version))
            finally:
                self.cancels.pop(execution_id, None)

    async def on_cancel_requested(self, msg: Msg) -> None:
        try:
            execution_id = int(msg.subject.split(".")[2])
        except (IndexError, ValueError):
            return
        cancel = self.cancels.get(execution_id)
        if cancel is not None:
            _log.info("execution.cancelling", execution_id=execution_id)
            cancel.set()

    async def run(self, stop: asyncio.Event) -> None:
        sub = await self.ctx.nc.subscribe("attune.execution.*.cancel_requested",
                                          cb=self.on_cancel_requested)
        beating = heartbeat.beat(
            self.ctx.store.js, self.name, interval=self.ctx.settings.heartbeat_seconds,
            info=lambda: {"runtimes": list(self.runtimes), "running": len(self.cancels),
                          "runtime_versions": self.runtime_versions,
                          "labels": self.labels, "pool": self.pool,
                          "concurrency": self.ctx.settings.worker_concurrency,
                          "at": self.ctx.clock().isoformat()}, stop=stop)
        intake = Intake(self.ctx, worker=self.name, runtimes=self.runtimes, pool=self.pool,
                        handler=self.on_work)
        try:
            await asyncio.gather(
                beating, intake.run(stop),
                facilities.maintain(self.ctx, self.facilities, stop, self.runtime_versions))
        finally:
            await sub.unsubscribe()
            if self.warm is not None:
                await self.warm.close()
