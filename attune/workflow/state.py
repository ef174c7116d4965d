"""The state of one workflow run and `evolve`, which folds one event into it.

Why mutation: StackStorm's engine loads and rewrites the whole workflow document on
every task completion, so each transition costs as much as the workflow is large.
Here the state is a plain object owned by exactly one conductor (the executor holds
it per workflow execution, rebuilding it by replay when it has none), and `evolve`
changes only the entries an event names: one run, one unit, one variable set. A
transition therefore costs O(1) in the size of the workflow (O(size of the event)),
with no copying. Nobody else may hold on to the state or to values inside it while
it is being evolved; `snapshot()` gives an independent JSON view for tests and APIs.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, assert_never

from attune.errors import InvalidTransitionError
from attune.workflow.events import (
    ChildFinished,
    ChildKey,
    ChildNotStarted,
    ChildRequested,
    RetryDue,
    TaskDelayed,
    TaskFinished,
    TaskStarted,
    TransitionTaken,
    WorkflowCancelRequested,
    WorkflowEvent,
    WorkflowFailing,
    WorkflowFinished,
    WorkflowPaused,
    WorkflowPauseRequested,
    WorkflowRerunStarted,
    WorkflowResumed,
    WorkflowStarted,
)
from attune.workflow.graph import Graph

RunKey = tuple[str, int]
#: Child statuses in order of precedence for a run's status (the worst one wins).
_SEVERITY = {"failed": 4, "abandoned": 4, "timeout": 3, "cancelled": 2}
ACTIVE = frozenset({"running", "pausing", "paused", "failing", "canceling"})
FINAL = frozenset({"succeeded", "failed", "cancelled"})


def retry_timer(child: ChildKey) -> str:
    return f"retry:{child.task}:{child.run}:{child.unit}:{child.attempt + 1}"


def delay_timer(task: str, run: int) -> str:
    return f"delay:{task}:{run}"


@dataclass(slots=True, eq=False)
class Run:
    """One activation of a task: its children ("units": one, one per item, or one per
    batch), kept as parallel lists indexed by unit so results stay in item order."""

    task: str
    run: int
    via: RunKey | None
    status: str  # delayed | running | succeeded | failed | timeout | cancelled
    items: list[Any] | None = None
    batch_size: int | None = None
    concurrency: int = 1
    units: int = 0
    unit_status: list[str] = field(default_factory=list)
    attempts: list[int] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    next_unit: int = 0
    #: Units to request again (retries, reruns), before `next_unit`.
    requeued: deque[int] = field(default_factory=deque)
    in_flight: int = 0
    #: Units waiting for a retry timer.
    waiting: int = 0
    #: Units that ended unsuccessfully for good; one stops further dispatching.
    failed: int = 0
    worst: str | None = None
    error: str | None = None
    handled: bool = False

    @property
    def key(self) -> RunKey:
        return (self.task, self.run)

    @property
    def pending(self) -> bool:
        return bool(self.requeued) or self.next_unit < self.units

    def next_pending(self) -> int:
        return self.requeued[0] if self.requeued else self.next_unit

    def result(self) -> Any:
        if self.items is None:
            return self.results[0] if self.results else None
        return self.results

    def item(self, unit: int) -> Any:
        assert self.items is not None
        if self.batch_size is None:
            return self.items[unit]
        return self.items[unit * self.batch_size:(unit + 1) * self.batch_size]

    def view(self) -> dict[str, Any]:
        """What `task.<name>` shows: status, result, run, plus the result's fields."""
        result = self.result()
        shown: dict[str, Any] = {"status": self.status, "result": result, "run": self.run}
        if self.error is not None:
            shown["error"] = self.error
        if isinstance(result, dict):
            for key, value in result.items():
                shown.setdefault(key, value)
        return shown


@dataclass(slots=True)
class Barrier:
    """Inbound tasks that reached a join task; `fired` once it started for them."""

    arrived: set[str] = field(default_factory=set)
    fired: bool = False


@dataclass(slots=True, eq=False)
class WorkflowState:
    graph: Graph
    parameters: dict[str, Any]
    vars: dict[str, Any]
    config: dict[str, Any]
    system: dict[str, Any]
    status: str = "running"
    runs: dict[RunKey, Run] = field(default_factory=dict)
    #: task -> the number of its latest run
    latest: dict[str, int] = field(default_factory=dict)
    #: the `task` namespace: task -> its latest finished run's view
    task_view: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: runs with a unit to request and room for it (in flight < concurrency), in the
    #: order they became so: the conductor requests from exactly these
    ready: dict[RunKey, None] = field(default_factory=dict)
    in_flight: dict[ChildKey, None] = field(default_factory=dict)
    #: timer id -> the delayed run or the child waiting for its retry
    timers: dict[str, RunKey | ChildKey] = field(default_factory=dict)
    barriers: dict[str, Barrier] = field(default_factory=dict)
    error: str | None = None
    #: runs whose unhandled failure failed the workflow (what a rerun starts from)
    unhandled: list[RunKey] = field(default_factory=list)
    #: runs that finished while the workflow was failing or canceling: their transitions
    #: were not evaluated (nothing new may start then); a rerun evaluates them
    unrouted: list[RunKey] = field(default_factory=list)
    output: dict[str, Any] | None = None
    version: int = 0

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    def run_of(self, child: ChildKey) -> Run:
        return self.runs[(child.task, child.run)]

    def snapshot(self) -> dict[str, Any]:
        """An independent, comparable summary (replay must reproduce it exactly)."""
        import copy

        return copy.deepcopy({
            "status": self.status, "vars": self.vars, "error": self.error,
            "output": self.output, "latest": self.latest, "task": self.task_view,
            "ready": list(self.ready), "in_flight": [c.label() for c in self.in_flight],
            "timers": sorted(self.timers), "unhandled": self.unhandled,
            "unrouted": self.unrouted,
            "barriers": {k: (sorted(b.arrived), b.fired) for k, b in self.barriers.items()},
            "runs": {f"{k[0]}#{k[1]}": (r.status, r.unit_status, r.attempts, r.results,
                                        r.next_unit, list(r.requeued), r.in_flight, r.waiting)
                     for k, r in self.runs.items()},
        })


def evolve(state: WorkflowState | None, event: WorkflowEvent) -> WorkflowState:
    """Fold one event into the state (in place; see the module doc) and return it."""
    if isinstance(event, WorkflowStarted):
        if state is not None:
            raise InvalidTransitionError("workflow.started applied to a started workflow")
        graph = Graph.of(event.definition)
        return WorkflowState(
            graph=graph, parameters=dict(event.parameters), vars=dict(event.vars),
            config=dict(event.config), system=dict(event.system),
            barriers={t.name: Barrier() for t in event.definition.tasks if t.join is not None},
            version=1)
    if state is None:
        raise InvalidTransitionError("workflow history does not start with workflow.started")
    state.version += 1
    match event:
        case TaskDelayed():
            _new_run(state, event.task, event.run, event.via, event.via_run, event.joined,
                     Run(event.task, event.run, None, "delayed"))
            state.timers[event.timer] = (event.task, event.run)
        case TaskStarted():
            state.timers.pop(delay_timer(event.task, event.run), None)
            _start_run(state, event)
        case ChildRequested():
            run = state.run_of(event.child)
            unit = event.child.unit
            _take_pending(run, unit)
            run.unit_status[unit] = "running"
            run.attempts[unit] = event.child.attempt
            run.in_flight += 1
            state.in_flight[event.child] = None
            _refresh_ready(state, run)
        case ChildFinished():
            _child_finished(state, event)
        case ChildNotStarted():
            run = state.run_of(event.child)
            unit = event.child.unit
            _take_pending(run, unit)
            run.attempts[unit] = event.child.attempt
            run.results[unit] = {"error": event.error}
            _unit_failed(state, run, unit, "failed")
        case RetryDue():
            run = state.run_of(event.child)
            state.timers.pop(retry_timer(event.child), None)
            run.waiting -= 1
            run.unit_status[event.child.unit] = "pending"
            run.requeued.append(event.child.unit)
            _refresh_ready(state, run)
        case TaskFinished():
            run = state.runs[(event.task, event.run)]
            run.status = event.status
            if event.error is not None:
                run.error = event.error
            state.ready.pop(run.key, None)
            state.task_view[event.task] = run.view()
            if state.status in ("failing", "canceling"):
                state.unrouted.append(run.key)
        case TransitionTaken():
            _transition_taken(state, event)
        case WorkflowFailing():
            if state.error is None:
                state.error = event.error
            if event.task is not None and event.run is not None:
                state.unhandled.append((event.task, event.run))
            if state.status in ("running", "pausing", "paused"):
                state.status = "failing"
            _drop_timers(state)
        case WorkflowPauseRequested():
            state.status = "pausing"
        case WorkflowPaused():
            state.status = "paused"
        case WorkflowResumed():
            state.status = "running"
        case WorkflowCancelRequested():
            state.status = "canceling"
            _drop_timers(state)
            state.ready.clear()
        case WorkflowRerunStarted():
            _rerun(state, event)
        case WorkflowFinished():
            state.status = event.status
            state.output = event.output
            if event.error is not None:
                state.error = event.error
            # `ready` keeps runs a failure held back: a rerun resumes them
        case WorkflowStarted():
            raise AssertionError("handled above")
        case _:
            assert_never(event)
    return state


def replay(events: list[WorkflowEvent]) -> WorkflowState:
    state: WorkflowState | None = None
    for event in events:
        state = evolve(state, event)
    if state is None:
        raise InvalidTransitionError("no workflow events to replay")
    return state


# -- helpers ----------------------------------------------------------------------------

def _new_run(state: WorkflowState, task: str, number: int, via: str | None,
             via_run: int | None, joined: bool, run: Run) -> Run:
    run.via = (via, via_run) if via is not None and via_run is not None else None
    state.runs[(task, number)] = run
    if number > state.latest.get(task, 0):
        state.latest[task] = number
    if joined:
        barrier = state.barriers[task]
        barrier.fired = True
        if barrier.arrived >= state.graph.inbound[task]:
            barrier.arrived = set()
            barrier.fired = False
    return run


def _start_run(state: WorkflowState, event: TaskStarted) -> None:
    previous = state.runs.get((event.task, event.run))
    if previous is not None and previous.status == "delayed":
        run, joined = previous, False  # the join already fired when it was delayed
        run.status = "running"
    else:
        run = Run(event.task, event.run, None, "running")
        joined = event.joined
    _new_run(state, event.task, event.run, event.via, event.via_run, joined, run)
    run.items, run.batch_size, run.error = event.items, event.batch_size, event.error
    run.concurrency = max(1, event.concurrency)
    if state.graph.tasks[event.task].action is None:
        units = 0
    elif event.items is None:
        units = 1
    elif event.batch_size:
        units = math.ceil(len(event.items) / event.batch_size)
    else:
        units = len(event.items)
    run.units = units
    run.unit_status = ["pending"] * units
    run.attempts = [0] * units
    run.results = [None] * units
    _refresh_ready(state, run)


def _refresh_ready(state: WorkflowState, run: Run) -> None:
    if (run.status == "running" and run.pending and run.failed == 0
            and run.in_flight < run.concurrency):
        state.ready[run.key] = None
    else:
        state.ready.pop(run.key, None)


def _take_pending(run: Run, unit: int) -> None:
    if run.requeued and run.requeued[0] == unit:
        run.requeued.popleft()
    elif unit == run.next_unit:
        run.next_unit += 1
    else:  # not the next in line (not produced by `decide`, but keep the state sound)
        try:
            run.requeued.remove(unit)
        except ValueError:
            run.next_unit = max(run.next_unit, unit + 1)


def _unit_failed(state: WorkflowState, run: Run, unit: int, status: str) -> None:
    run.unit_status[unit] = status
    run.failed += 1
    if run.worst is None or _SEVERITY[status] > _SEVERITY[run.worst]:
        run.worst = status
    state.ready.pop(run.key, None)  # no further items after a failure


def _child_finished(state: WorkflowState, event: ChildFinished) -> None:
    run = state.run_of(event.child)
    unit = event.child.unit
    state.in_flight.pop(event.child, None)
    run.in_flight -= 1
    run.results[unit] = event.result
    if event.retry_at is not None:
        run.unit_status[unit] = "waiting"
        run.waiting += 1
        state.timers[retry_timer(event.child)] = event.child
    elif event.retry_now:
        run.unit_status[unit] = "pending"
        run.requeued.append(unit)
    elif event.status == "succeeded":
        run.unit_status[unit] = "succeeded"
    else:
        _unit_failed(state, run, unit, event.status)
    _refresh_ready(state, run)


def _transition_taken(state: WorkflowState, event: TransitionTaken) -> None:
    state.vars.update(event.published)
    run = state.runs[(event.task, event.run)]
    run.handled = True
    for target in state.graph.tasks[event.task].next[event.index].do:
        barrier = state.barriers.get(target)
        if barrier is None:
            continue
        barrier.arrived.add(event.task)
        if barrier.fired and barrier.arrived >= state.graph.inbound[target]:
            barrier.arrived = set()
            barrier.fired = False


def _drop_timers(state: WorkflowState) -> None:
    """No task starts and no retry runs once a workflow fails or is cancelled."""
    for target in state.timers.values():
        if isinstance(target, ChildKey):
            run = state.run_of(target)
            run.waiting -= 1
            _unit_failed(state, run, target.unit, "cancelled")
        else:
            state.runs[target].status = "cancelled"
            state.task_view[target[0]] = state.runs[target].view()
    state.timers.clear()


def _rerun(state: WorkflowState, event: WorkflowRerunStarted) -> None:
    state.status = "running"
    state.error = None
    state.output = None
    state.unhandled = []
    state.unrouted = []
    for task, number in event.runs:
        run = state.runs[(task, number)]
        run.status = "running"
        run.failed, run.worst, run.error, run.handled = 0, None, None, False
        run.results = list(run.results)  # published values may share the old list
        keep = "succeeded" if run.items is not None else None  # items keep their successes
        for unit in range(min(run.next_unit, run.units)):
            if run.unit_status[unit] not in (keep, "pending"):
                run.unit_status[unit] = "pending"
                run.results[unit] = None
                run.requeued.append(unit)
        _refresh_ready(state, run)
