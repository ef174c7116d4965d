"""One decision of the conductor in the making (`Step`): it emits events — applying
each to the state at once through `evolve` — and collects effects, then `settle()`s:
finishes task runs whose children have all ended and evaluates their transitions,
requests children while runs have room, and pauses or ends the workflow once nothing
is left to do. `attune.workflow.conductor` feeds it the inputs.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any, Literal

from attune.expr import WORKFLOW_FUNCTIONS, ExprError, evaluate_condition, render_value
from attune.workflow.commands import (
    CancelTimers,
    Decision,
    FinishWorkflow,
    RequestChild,
    ScheduleTimer,
    SignalChildren,
)
from attune.workflow.events import (
    ChildKey,
    ChildNotStarted,
    ChildRequested,
    FinalStatus,
    TaskDelayed,
    TaskFinished,
    TaskStarted,
    TransitionTaken,
    WorkflowEvent,
    WorkflowFailing,
    WorkflowFinished,
    WorkflowPaused,
)
from attune.workflow.scope import Judged, Keystore, Scope
from attune.workflow.state import Run, RunKey, WorkflowState, delay_timer, evolve

#: Task starts in one decision before it is taken for a loop of routing-only tasks
#: (tasks without an action never wait, so such a loop would never yield).
MAX_STARTS_PER_DECISION = 10_000
#: How a workflow ends from the status it is in when nothing is left to run.
_FINAL_STATUS: dict[str, FinalStatus] = {"running": "succeeded", "failing": "failed",
                                         "canceling": "cancelled"}


class Step:
    """One decision in the making: emits events (applying each), collects effects."""

    def __init__(self, state: WorkflowState, now: datetime, keystore: Keystore | None) -> None:
        self.state = state
        self.now = now
        self.scope = Scope(state, keystore)
        self.decision = Decision()
        self.settled: deque[RunKey] = deque()
        self.queued: set[RunKey] = set()
        self.starts = 0

    def emit(self, event: WorkflowEvent) -> None:
        evolve(self.state, event)
        self.decision.events.append(event)

    def signal(self, signal: Literal["cancel", "pause", "resume"]) -> None:
        if self.state.in_flight:
            self.decision.effects.append(
                SignalChildren(signal=signal, children=tuple(self.state.in_flight)))

    def fail(self, error: str, run: Run | None = None) -> None:
        affected = self.timer_runs()
        timers = tuple(self.state.timers)
        self.emit(WorkflowFailing(at=self.now, error=error, task=run.task if run else None,
                                  run=run.run if run else None))
        if timers:
            self.decision.effects.append(CancelTimers(timers=timers))
        self.check_settled(affected)

    def timer_runs(self) -> list[RunKey]:
        return [(t.task, t.run) if isinstance(t, ChildKey) else t
                for t in self.state.timers.values()]

    def check_settled(self, keys: list[RunKey]) -> None:
        for key in keys:
            run = self.state.runs[key]
            if run.status == "running" and self.is_settled(run):
                self.queue(run)

    # -- task runs ---------------------------------------------------------------------

    def activate(self, name: str, via: Run | None, joined: bool = False) -> None:
        """A transition (or the start) reached task `name`: delay it or start it."""
        self.starts += 1
        if self.starts > MAX_STARTS_PER_DECISION:
            if self.state.status == "running":
                self.fail(f"tasks.{name}: more than {MAX_STARTS_PER_DECISION} task starts in "
                          "one step; a loop of tasks without actions never ends")
            return
        task = self.state.graph.tasks[name]
        number = self.state.latest.get(name, 0) + 1
        via_key = via.key if via is not None else None
        if task.delay:
            timer = delay_timer(name, number)
            until = self.now + timedelta(seconds=task.delay)
            self.emit(TaskDelayed(at=self.now, task=name, run=number,
                                  via=via_key[0] if via_key else None,
                                  via_run=via_key[1] if via_key else None, joined=joined,
                                  until=until, timer=timer))
            self.decision.effects.append(ScheduleTimer(timer=timer, due=until))
            return
        self.begin(name, number, via_key, joined)

    def begin(self, name: str, number: int, via: RunKey | None, joined: bool) -> None:
        """Start a run: evaluate its items and concurrency (with the via run judged)."""
        task = self.state.graph.tasks[name]
        via_run = self.state.runs.get(via) if via is not None else None
        scope = self.scope.context(_judged(via_run))
        items: list[Any] | None = None
        concurrency, error = 1, None
        spec = task.with_items
        if spec is not None:
            try:
                value = spec.items if isinstance(spec.items, list) else render_value(
                    spec.items, scope, field=f"tasks.{name}.with_items",
                    functions=WORKFLOW_FUNCTIONS)
                if not isinstance(value, list):
                    raise ExprError(f"expected an array, got {_kind(value)}",
                                    field=f"tasks.{name}.with_items")
                items = value
                raw = spec.concurrency if isinstance(spec.concurrency, int) else render_value(
                    spec.concurrency, scope, field=f"tasks.{name}.concurrency",
                    functions=WORKFLOW_FUNCTIONS)
                if isinstance(raw, bool) or not isinstance(raw, int):
                    raise ExprError(f"expected an integer, got {_kind(raw)}",
                                    field=f"tasks.{name}.concurrency")
                concurrency = max(1, raw)
            except ExprError as exc:
                items, error = [], str(exc)
        self.emit(TaskStarted(at=self.now, task=name, run=number,
                              via=via[0] if via else None, via_run=via[1] if via else None,
                              joined=joined, items=items,
                              batch_size=spec.batch_size if spec else None,
                              concurrency=concurrency, error=error))
        run = self.state.runs[(name, number)]
        if run.units == 0:  # nothing to run (a routing task, no items, or items failed)
            self.queue(run)

    def queue(self, run: Run) -> None:
        if run.key not in self.queued:
            self.queued.add(run.key)
            self.settled.append(run.key)

    def is_settled(self, run: Run) -> bool:
        return (run.in_flight == 0 and run.waiting == 0
                and (not run.pending or run.failed > 0 or self.state.status == "canceling"))

    def settle(self) -> None:
        """Finish settled runs and evaluate their transitions, request children while
        there is room, and end (or pause) the workflow once nothing is left to do."""
        while True:
            if self.settled:
                key = self.settled.popleft()
                self.queued.discard(key)
                self.finish_run(self.state.runs[key])
            elif self.state.status == "running" and self.state.ready and self.pump():
                continue
            elif not self.check_end():
                return

    def finish_run(self, run: Run) -> None:
        if run.status != "running":
            return
        status = run.worst or ("cancelled" if run.pending else "succeeded")
        if run.error is not None:
            status = "failed"
        self.emit(TaskFinished(at=self.now, task=run.task, run=run.run, status=status,
                               error=run.error))
        if self.state.status in ("running", "pausing", "paused"):
            self.transitions(run)

    def transitions(self, run: Run) -> None:
        task = self.state.graph.tasks[run.task]
        judged = _judged(run)
        matched = False
        for index, transition in enumerate(task.next):
            where = f"tasks.{task.name}.next[{index}]"
            scope = self.scope.context(judged)
            try:
                if transition.when is not None and not evaluate_condition(
                        transition.when, scope, functions=WORKFLOW_FUNCTIONS):
                    continue
            except ExprError as exc:
                self.fail(str(exc.at_field(f"{where}.when")), run)
                return
            try:
                published = {name: render_value(value, scope, field=f"{where}.publish.{name}",
                                                functions=WORKFLOW_FUNCTIONS)
                             for name, value in transition.publish.items()}
            except ExprError as exc:
                self.fail(str(exc), run)
                return
            matched = True
            self.emit(TransitionTaken(at=self.now, task=run.task, run=run.run, index=index,
                                      published=published))
            for target in transition.do:
                if target == "fail":
                    self.fail(f"{where}.do: the workflow was failed by task {task.name!r}",
                              run)
                    return
                if target not in ("noop", "continue"):
                    self.reach(target, run)
            if self.state.status not in ("running", "pausing", "paused"):
                return
        if not matched and run.status != "succeeded":
            detail = f": {run.error}" if run.error else ""
            self.fail(f"task {task.name!r} {run.status}{detail} (no transition handled it)",
                      run)

    def reach(self, name: str, via: Run) -> None:
        task = self.state.graph.tasks[name]
        if task.join is None:
            self.activate(name, via)
            return
        barrier = self.state.barriers[name]
        need = len(self.state.graph.inbound[name]) if task.join == "all" else task.join
        if not barrier.fired and len(barrier.arrived) >= need:
            self.activate(name, via, joined=True)

    def pump(self) -> bool:
        """Request children for ready runs up to their concurrency; whether any was."""
        progressed = False
        for key in list(self.state.ready):
            run = self.state.runs[key]
            while key in self.state.ready:  # evolve drops it when full or out of units
                self.dispatch(run, run.next_pending())
                progressed = True
            if self.is_settled(run):
                self.queue(run)
        return progressed

    def dispatch(self, run: Run, unit: int) -> None:
        task = self.state.graph.tasks[run.task]
        child = ChildKey(task=run.task, run=run.run,
                         item=unit if run.items is not None else None,
                         attempt=run.attempts[unit] + 1)
        via = self.state.runs.get(run.via) if run.via is not None else None
        item = (run.item(unit), unit) if run.items is not None else None
        try:
            params = render_value(task.input, self.scope.context(_judged(via), item),
                                  field=f"tasks.{task.name}.input",
                                  functions=WORKFLOW_FUNCTIONS)
        except ExprError as exc:
            self.emit(ChildNotStarted(at=self.now, child=child, error=str(exc)))
            return
        assert isinstance(params, dict) and task.action is not None
        self.emit(ChildRequested(at=self.now, child=child))
        self.decision.effects.append(RequestChild(child=child, action=task.action,
                                                  parameters=params,
                                                  timeout_seconds=task.timeout))

    def check_end(self) -> bool:
        """Pause or finish the workflow when nothing is in flight; whether it acted."""
        state = self.state
        if state.finished or state.in_flight:
            return False
        if state.status == "pausing":
            self.emit(WorkflowPaused(at=self.now))
            return True
        if state.status == "paused" or (state.status == "running" and state.timers):
            return False
        if state.status == "running":
            waiting = self._unreachable_join()
            if waiting is not None:
                self.fail(waiting)
                return True
        status = _FINAL_STATUS[state.status]
        output, error = self._output(status)
        if status == "succeeded" and error is not None:
            status = "failed"
        elif status != "succeeded":
            error = state.error if status == "failed" else None
        self.emit(WorkflowFinished(at=self.now, status=status,
                                   output=output, error=error))
        self.decision.effects.append(FinishWorkflow(status=status,
                                                    output=output, error=error))
        return True

    def _unreachable_join(self) -> str | None:
        for name, barrier in self.state.barriers.items():
            if barrier.arrived and not barrier.fired:
                missing = sorted(self.state.graph.inbound[name] - barrier.arrived)
                return (f"tasks.{name}.join: reached from {', '.join(sorted(barrier.arrived))} "
                        f"but {', '.join(missing)} will not arrive; the join can never start")
        return None

    def _output(self, status: str) -> tuple[dict[str, Any] | None, str | None]:
        output = self.state.graph.definition.output
        if not output:
            return ({} if status == "succeeded" else None), None
        try:
            rendered = render_value(output, self.scope.context(),
                                    field="output", functions=WORKFLOW_FUNCTIONS)
        except ExprError as exc:
            return None, f"the output could not be rendered: {exc}"
        assert isinstance(rendered, dict)
        return rendered, None


def _judged(run: Run | None) -> Judged:
    if run is None:
        return Judged(None, None)
    return Judged(run.status, run.result())


def _kind(value: Any) -> str:
    from attune.expr import type_name

    return type_name(value)
