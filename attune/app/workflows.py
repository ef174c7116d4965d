"""Driving workflows: the I/O around the pure conductor (`attune.workflow`).

`Conducting` starts a workflow execution's conductor, feeds it inputs (a child ended,
a timer fired, pause/resume/cancel/rerun) and carries out the effects it returns:

* its events go to the `workflow` aggregate (`attune.workflow.<execution id>.<event>`),
  appended with the version the decision was based on, *in one atomic batch with the
  `execution.requested` events of the children it asked for* — so a crash never
  leaves a child recorded without its request, nor a request without its record;
* children are requested through `executions.prepare` (validated, secrets sealed),
  with `parent` = the workflow's execution and `workflow_task` = their `ChildKey`, and
  go through normal scheduling (a child that is a workflow runs its own conductor);
* timers go to `on_timer` (the executor's orchestrator keeps them);
* signals reach the children (cancel, or pause/resume of children that are workflows);
* the end finishes the workflow's execution (completed, failed, cancelled).

The state of each workflow is kept in memory while it runs (the conductor's state is
mutable and owned here); on a concurrent append it is dropped and replayed from the
stream. One lock per workflow orders the inputs of that workflow; different
workflows proceed in parallel. The API uses the same class (without a cache worth
speaking of) for pause, resume and rerun: the stream's OCC check settles any race
with the executor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attune.log as log
from attune.app import executions, inquiries
from attune.app.context import Context
from attune.app.keys import keystore as keystore_of
from attune.app.workflow_children import (
    Children,
    child_result,
    finish_execution,
    is_workflow,
    terminal_status,
)
from attune.domain import execution as ex
from attune.domain.params import secret_names
from attune.errors import (
    AttuneError,
    ConcurrencyError,
    DuplicateAppendError,
    InvalidTransitionError,
)
from attune.eventstore.envelope import Envelope, Meta
from attune.eventstore.store import Append
from attune.security.crypto import is_sealed
from attune.workflow import Cancel as WfCancel
from attune.workflow import (
    CancelTimers,
    ChildEnded,
    ChildKey,
    Decision,
    FinishWorkflow,
    RequestChild,
    ScheduleTimer,
    SignalChildren,
    WorkflowCommand,
    WorkflowDef,
    WorkflowState,
    decide,
    replay,
    start,
    status_of_execution,
)
from attune.workflow import Pause as WfPause
from attune.workflow import Rerun as WfRerun
from attune.workflow import Resume as WfResume
from attune.workflow.events import WorkflowEvent, WorkflowStarted

_log = log.get("workflows")

#: The `worker` a workflow execution runs on: the executor's conductor, not a worker
#: process (the monitor leaves it alone: it sends no heartbeats).
CONDUCTOR = "attune:conductor"
#: The work queue recorded when a workflow execution is scheduled (nothing consumes it).
WORKFLOW_QUEUE = "attune.workflow"
MAX_ATTEMPTS = 8
MAX_KNOWN_CHILDREN = 100_000
#: Inputs a single decision chain may take (child requests that fail at once feed
#: back as failed children); more means something loops.
MAX_FEEDBACK = 10_000

TimerSink = Callable[[int, str, datetime | None], None]


class Conducting:
    def __init__(self, ctx: Context, *, on_timer: TimerSink | None = None) -> None:
        self.ctx = ctx
        self.on_timer = on_timer
        self._states: dict[int, tuple[WorkflowState, int]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._keys: dict[int, bool] = {}  # whether a workflow reads `keystore`
        self._inbox: dict[int, list[tuple[WorkflowCommand, asyncio.Future[bool]]]] = {}
        #: children this process requested, until they end (their parent and key)
        self._requested: dict[int, ex.ExecutionRequested] = {}
        self.children = Children(ctx)

    def _lock(self, execution_id: int) -> asyncio.Lock:
        lock = self._locks.get(execution_id)
        if lock is None:
            lock = self._locks[execution_id] = asyncio.Lock()
        return lock

    def forget(self, execution_id: int) -> None:
        self._states.pop(execution_id, None)
        self._keys.pop(execution_id, None)
        lock = self._locks.get(execution_id)
        if lock is not None and not lock.locked():
            self._locks.pop(execution_id, None)

    # -- state ------------------------------------------------------------------------

    async def load(self, execution_id: int) -> tuple[WorkflowState | None, int]:
        """The workflow's state replayed from its stream (None: not started)."""
        envelopes, version = await self.ctx.store.load("workflow", execution_id)
        if not envelopes:
            return None, 0
        events: list[WorkflowEvent] = [e.event for e in envelopes]  # type: ignore[misc]
        return self._opened(replay(events)), version

    def _sealed_start(self, event: WorkflowEvent) -> WorkflowEvent:
        """`workflow.started` as recorded: secret parameters sealed, as in the execution's
        request (the state in memory keeps them open for rendering)."""
        if not isinstance(event, WorkflowStarted):
            return event
        secrets = secret_names(event.definition.parameters)
        if not secrets:
            return event
        return event.model_copy(update={"parameters": {
            k: (self.ctx.sealer.seal(v) if k in secrets and not is_sealed(v) else v)
            for k, v in event.parameters.items()}})

    def _opened(self, state: WorkflowState) -> WorkflowState:
        """A replayed state with its sealed parameters opened again for rendering."""
        state.parameters = {k: (self.ctx.sealer.open(v) if is_sealed(v) else v)
                            for k, v in state.parameters.items()}
        return state

    async def _state(self, execution_id: int) -> tuple[WorkflowState | None, int]:
        cached = self._states.get(execution_id)
        if cached is not None:
            return cached
        state, version = await self.load(execution_id)
        if state is not None:
            self._states[execution_id] = (state, version)
        return state, version

    async def _keystore(self, execution_id: int, definition: WorkflowDef
                        ) -> Callable[[str], Any] | None:
        reads = self._keys.get(execution_id)
        if reads is None:
            reads = self._keys[execution_id] = "keystore" in definition.model_dump_json()
        return await keystore_of(self.ctx) if reads else None

    # -- inputs -----------------------------------------------------------------------

    async def begin(self, env: Envelope) -> None:
        """A workflow execution was requested: mark it running and start its conductor
        (a redelivery finds it started and does nothing)."""
        requested = env.event
        assert isinstance(requested, ex.ExecutionRequested)
        execution_id = env.aggregate_id
        meta = env.meta.caused_by(env)
        async with self._lock(execution_id):
            started, _ = await self._state(execution_id)
            if started is not None:
                if started.finished:  # its end was recorded, not carried out (a crash)
                    await finish_execution(self.ctx, execution_id, FinishWorkflow(
                        status=started.status, output=started.output,
                        error=started.error), meta)
                return
            current, ex_version, _ = await executions.load(self.ctx, execution_id)
            if current.status is ex.Status.REQUESTED:
                current, ex_version = await executions.handle(
                    self.ctx, execution_id, ex.Schedule(queue=WORKFLOW_QUEUE), meta=meta,
                    msg_id=f"execution:{execution_id}:scheduled",
                    known=(current, ex_version))
            if current.status is ex.Status.SCHEDULED:
                await executions.handle(
                    self.ctx, execution_id, ex.Start(worker=CONDUCTOR), meta=meta,
                    msg_id=f"execution:{execution_id}:started", known=(current, ex_version))
            elif current.status.terminal or current.status is ex.Status.CANCELING:
                return  # cancelled (or timed out) before it began
            if requested.rerun_of is not None and await self._rerun(
                    execution_id, requested.rerun_of, meta):
                return
            action = requested.action
            definition = WorkflowDef.model_validate(action.workflow)
            parameters = {k: (self.ctx.sealer.open(v) if is_sealed(v) else v)
                          for k, v in requested.parameters.items()}
            config = await self.ctx.pool.fetchval(
                "SELECT definition->'config' FROM packs WHERE ref = $1", action.pack_ref)
            try:
                state, decision = start(
                    definition, parameters, now=self.ctx.clock(),
                    config=config if isinstance(config, dict) else {},
                    system={"execution_id": execution_id, "action": action.ref,
                            "pack": action.pack_ref,
                            "parent_execution_id": requested.parent},
                    keystore=await self._keystore(execution_id, definition))
            except AttuneError as exc:  # bad vars / parameters: it fails before any task
                await finish_execution(self.ctx, execution_id, FinishWorkflow(
                    status="failed", error=exc.message), meta)
                return
            decision.events[0] = self._sealed_start(decision.events[0])
            await self._carry_out(execution_id, state, 0, decision, meta)

    async def _rerun(self, execution_id: int, rerun_of: int, meta: Meta) -> bool:
        """A rerun of a finished workflow goes on from its history: the earlier run's
        events are copied to the new execution's stream and the conductor reruns the
        tasks that failed it (succeeded tasks and items are kept). False when there is
        nothing to go on from (then it starts afresh)."""
        envelopes, _ = await self.ctx.store.load("workflow", rerun_of)
        if not envelopes:
            return False
        history: list[WorkflowEvent] = [e.event for e in envelopes]  # type: ignore[misc]
        state = self._opened(replay(history))
        try:
            decision = decide(state, WfRerun(by=meta.actor), now=self.ctx.clock())
        except AttuneError:  # it succeeded, or is still running: start afresh
            return False
        decision.events[:0] = history
        await self._carry_out(execution_id, state, 0, decision, meta)
        return True

    async def command(self, execution_id: int, command: WorkflowCommand, *,
                      meta: Meta) -> bool:
        """Feed one input to a workflow; False when it has no workflow stream.

        Inputs that arrive while a decision of the same workflow is being appended wait
        in its inbox; whoever takes the lock next decides all of them and appends their
        events in one atomic batch (a group commit), so fifty children ending together
        cost one append, not fifty in a row."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._inbox.setdefault(execution_id, []).append((command, done))
        async with self._lock(execution_id):
            if not done.done():
                batch = self._inbox.pop(execution_id, [])
                try:
                    result = await self._decide_batch(execution_id,
                                                      [c for c, _ in batch], meta)
                except BaseException as exc:
                    for _, waiting in batch:
                        if not waiting.done():
                            waiting.set_exception(exc)
                    raise
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_result(result)
        return await done

    async def _decide_batch(self, execution_id: int, commands: list[WorkflowCommand],
                            meta: Meta) -> bool:
        """Decide `commands` in order and append what they produced together (the first
        one's causation stands for the batch)."""
        for attempt in range(MAX_ATTEMPTS):
            cached = execution_id in self._states
            decision = await self._decide_all(execution_id, commands)
            if decision is None:
                return False
            state, version, decided = decision
            if cached and not decided.events and not decided.effects:
                # nothing to do — or our copy is behind a writer elsewhere (the API's
                # pause/resume), whose children we would not know: look again
                self._states.pop(execution_id, None)
                decision = await self._decide_all(execution_id, commands)
                if decision is None:
                    return False
                state, version, decided = decision
            try:
                await self._carry_out(execution_id, state, version, decided, meta)
            except (ConcurrencyError, DuplicateAppendError):
                # another writer got there first (a duplicate msg id: it decided on the
                # same version): our state, already changed by `decide`, is stale;
                # replay and decide again
                self._states.pop(execution_id, None)
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                continue
            return True
        return True

    async def _decide_all(self, execution_id: int, commands: list[WorkflowCommand]
                          ) -> tuple[WorkflowState, int, Decision] | None:
        state, version = await self._state(execution_id)
        if state is None:
            return None
        keys = await self._keystore(execution_id, state.graph.definition)
        decided = Decision()
        for command in commands:
            one = decide(state, command, now=self.ctx.clock(), keystore=keys)
            decided.events.extend(one.events)
            decided.effects.extend(one.effects)
        return state, version, decided

    async def child_ended(self, env: Envelope) -> None:
        """A terminal event of some execution: if it is a workflow's child, tell the
        workflow; if it is a workflow that ended from outside (timed out, cancelled
        before it began), stop its conductor."""
        event = env.event
        assert isinstance(event, ex.ExecutionEvent)  # the consumer takes execution events
        child_id = env.aggregate_id
        known = (self._requested.pop(child_id, None)
                 if not isinstance(event, ex.ExecutionCancelRequested)
                 else self._requested.get(child_id))
        if known is not None:
            requested = known
        else:  # not requested by this process (or it restarted): read the request
            first = await self.ctx.store.read(child_id)
            if first is None or not isinstance(first.event, ex.ExecutionRequested):
                return
            requested = first.event
        meta = env.meta.caused_by(env)
        if isinstance(event, ex.ExecutionCancelRequested):
            if is_workflow(requested.action):
                await self.command(child_id, WfCancel(by=event.by), meta=meta)
            elif inquiries.is_ask(requested.action.ref):
                await inquiries.on_cancel_requested(self.ctx, child_id, by=event.by,
                                                    meta=meta)
            return
        if is_workflow(requested.action) and not isinstance(
                event, ex.ExecutionCompleted | ex.ExecutionFailed):
            await self.command(child_id, WfCancel(by="the execution ended"), meta=meta)
        if is_workflow(requested.action):
            self.forget(child_id)
        if requested.parent is None or requested.workflow_task is None:
            return
        status = status_of_execution(terminal_status(event))
        key = ChildKey.model_validate(requested.workflow_task)
        await self.command(requested.parent, ChildEnded(
            child=key, status=status, result=child_result(requested.action, event)),
            meta=meta)

    # -- effects ----------------------------------------------------------------------

    async def _carry_out(self, execution_id: int, state: WorkflowState, version: int,
                         decision: Decision, meta: Meta) -> None:
        """Append the decision's events with its children's requests, then carry out
        the other effects; children that cannot be requested come back as failed
        children (a further decision, same lock)."""
        for _ in range(MAX_FEEDBACK):
            failed: list[ChildEnded] = []
            appends: list[Append] = []
            for i, event in enumerate(decision.events):
                appends.append(Append(execution_id, event, version if i == 0 else None,
                                      f"workflow:{execution_id}:{version}:{i}"))
            requests = [e for e in decision.effects if isinstance(e, RequestChild)]
            prepared = await self.children.prepare(execution_id, requests, failed)
            for request, requested in prepared:
                appends.append(Append(None, requested, None,
                                      f"workflow:{execution_id}:child:{request.child.label()}"))
            if appends:
                sequences = await self.ctx.store.append_all(appends, meta=meta)
                if decision.events:
                    version = sequences[len(decision.events) - 1]
                if len(self._requested) > MAX_KNOWN_CHILDREN:
                    # children whose ending another executor replica took: forget them
                    # (a child not found here is read from the stream)
                    self._requested.clear()
                for seq, (_, requested) in zip(sequences[len(decision.events):], prepared,
                                               strict=True):
                    self._requested[seq] = requested  # spares a read when it ends
            self._states[execution_id] = (state, version)
            for effect in decision.effects:
                await self._effect(execution_id, effect, meta)
            if not failed:
                return
            decision = Decision()
            for ended in failed:
                more = decide(state, ended, now=self.ctx.clock())
                decision.events.extend(more.events)
                decision.effects.extend(more.effects)
            if not decision.events and not decision.effects:
                return
        raise InvalidTransitionError(f"workflow {execution_id}: too many failed child requests")

    async def _effect(self, execution_id: int, effect: Any, meta: Meta) -> None:
        match effect:
            case RequestChild():
                pass  # appended with the decision's events
            case ScheduleTimer():
                if self.on_timer is not None:
                    self.on_timer(execution_id, effect.timer, effect.due)
            case CancelTimers():
                if self.on_timer is not None:
                    for timer in effect.timers:
                        self.on_timer(execution_id, timer, None)
            case SignalChildren():
                await self._signal(execution_id, effect, meta)
            case FinishWorkflow():
                await finish_execution(self.ctx, execution_id, effect, meta)

    async def _signal(self, execution_id: int, effect: SignalChildren, meta: Meta) -> None:
        for child_id, is_flow in await self.children.find(execution_id, effect.children):
            try:
                if effect.signal == "cancel":
                    await executions.cancel(self.ctx, child_id, by="its workflow", meta=meta)
                elif is_flow:
                    command = WfPause() if effect.signal == "pause" else WfResume()
                    await self.command(child_id, command, meta=meta)
            except AttuneError as exc:  # it ended meanwhile
                _log.info("workflow.signal_skipped", child=child_id, reason=exc.message)
