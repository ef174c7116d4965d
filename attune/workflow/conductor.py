"""The conductor: a pure, event-sourced state machine that runs one workflow.

    state, decision = start(definition, parameters, now=..., config=..., system=...)
    decision = decide(state, ChildEnded(child=key, status="succeeded", result=...), now=...)
    decision = decide(state, TimerFired(timer="retry:fetch:1:0:2"), now=...)
    decision = decide(state, Pause() | Resume() | Cancel() | Rerun(tasks=...), now=...)

`decision.events` are the facts to append (in order); `decision.effects` what the
executor then does: `RequestChild`, `ScheduleTimer`, `CancelTimers`, `SignalChildren`,
`FinishWorkflow`. Time and keys are injected (`now`, `keystore`); nothing here does I/O.

`decide` applies each event it produces to `state` through `evolve` as it goes,
because later steps of the same decision depend on earlier ones (a transition's
published variables feed the input of the task it starts). So after a decision the
state already includes its events; if appending them fails (a concurrent writer),
the caller drops the state and rebuilds it with `replay` from the stream.

Semantics (see README.md): transitions in order, every matching one fires; a failed
task that no transition matched fails the workflow — running children finish, nothing
new starts; `join` waits for N (or all) inbound tasks; with_items keeps `concurrency`
children in flight (a sliding window) and results in item order; retries per child.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from attune.domain.params import validate_parameters
from attune.errors import InvalidTransitionError, ValidationError
from attune.expr import WORKFLOW_FUNCTIONS, ExprError, evaluate_condition, render_value
from attune.workflow.commands import (
    Cancel,
    CancelTimers,
    ChildEnded,
    Decision,
    Pause,
    Rerun,
    Resume,
    ScheduleTimer,
    TimerFired,
    WorkflowCommand,
)
from attune.workflow.events import (
    ChildFinished,
    ChildKey,
    RetryDue,
    WorkflowCancelRequested,
    WorkflowPauseRequested,
    WorkflowRerunStarted,
    WorkflowResumed,
    WorkflowStarted,
)
from attune.workflow.model import TaskDef, WorkflowDef
from attune.workflow.problems import WorkflowDefinitionError
from attune.workflow.scope import Judged, Keystore, Scope
from attune.workflow.state import Run, WorkflowState, evolve, retry_timer
from attune.workflow.step import Step
from attune.workflow.validate import validate_workflow


def start(definition: WorkflowDef, parameters: Mapping[str, Any], *, now: datetime,
          config: Mapping[str, Any] | None = None, system: Mapping[str, Any] | None = None,
          keystore: Keystore | None = None) -> tuple[WorkflowState, Decision]:
    """Begin a workflow: check the definition and the parameters, render `vars` in
    order, start the entry tasks. An invalid definition, bad parameters or a `vars`
    expression error raise a ValidationError (nothing has started then)."""
    report = validate_workflow(definition)
    if report.errors:  # a definition that skipped validation must not crash the conductor
        shown = "; ".join(str(p) for p in report.errors[:5])
        raise WorkflowDefinitionError(f"invalid workflow: {shown}",
                                      details=[p.as_dict() for p in report.errors])
    params = validate_parameters(definition.parameters, dict(parameters))
    system_ns = {**(system or {}), "workflow_start": now.isoformat()}
    # A throwaway state to render `vars` against, each seeing the ones before it.
    scratch = evolve(None, WorkflowStarted(at=now, definition=definition, parameters=params,
                                           vars={}, config=dict(config or {}),
                                           system=system_ns))
    scope = Scope(scratch, keystore)
    variables: dict[str, Any] = {}
    for name, value in definition.vars.items():
        try:
            variables[name] = render_value(value, scope.context(), field=f"vars.{name}",
                                           functions=WORKFLOW_FUNCTIONS)
        except ExprError as exc:
            raise ValidationError(f"cannot start the workflow: {exc}",
                                  details=[{"field": f"vars.{name}", "message": str(exc)}]
                                  ) from None
        scratch.vars[name] = variables[name]
    started = WorkflowStarted(at=now, definition=definition, parameters=params, vars=variables,
                              config=dict(config or {}), system=system_ns)
    state = evolve(None, started)
    step = Step(state, now, keystore)
    step.decision.events.append(started)
    for name in state.graph.entries:
        step.activate(name, None)
    step.settle()
    return state, step.decision


def decide(state: WorkflowState, command: WorkflowCommand, *, now: datetime,
           keystore: Keystore | None = None) -> Decision:
    """The events and effects `command` produces; applied to `state` as they are made.
    Duplicate or stale inputs (a child result delivered twice, a timer already
    handled, a child of a finished workflow) produce an empty decision."""
    step = Step(state, now, keystore)
    if state.finished and not isinstance(command, Rerun):
        return step.decision
    match command:
        case ChildEnded():
            _child_ended(step, command)
        case TimerFired():
            _timer_fired(step, command.timer)
        case Pause():
            if state.status == "running":
                step.emit(WorkflowPauseRequested(at=now, by=command.by))
                step.signal("pause")
        case Resume():
            if state.status in ("pausing", "paused"):
                step.emit(WorkflowResumed(at=now, by=command.by))
                step.signal("resume")
        case Cancel():
            if state.status != "canceling":
                _cancel(step, command.by)
        case Rerun():
            _rerun(step, command)
    step.settle()
    return step.decision


# -- inputs -------------------------------------------------------------------------

def _child_ended(step: Step, command: ChildEnded) -> None:
    child = command.child
    if child not in step.state.in_flight:
        return  # a duplicate delivery, or a child of an earlier attempt
    run = step.state.run_of(child)
    task = step.state.graph.tasks[child.task]
    retry_now, retry_at = False, None
    if _should_retry(step, task, run, command):
        assert task.retry is not None
        wait = task.retry.delay_before(child.attempt)
        if wait > 0:
            retry_at = step.now + timedelta(seconds=wait)
        else:
            retry_now = True
    step.emit(ChildFinished(at=step.now, child=child, status=command.status,
                            result=command.result, retry_now=retry_now, retry_at=retry_at))
    if retry_at is not None:
        step.decision.effects.append(ScheduleTimer(timer=retry_timer(child), due=retry_at))
    if step.is_settled(run):
        step.queue(run)


def _should_retry(step: Step, task: TaskDef, run: Run, command: ChildEnded) -> bool:
    policy = task.retry
    if (policy is None or command.status in ("succeeded", "cancelled")
            or command.child.attempt > policy.count
            or step.state.status in ("canceling", "failing") or run.failed):
        return False
    if policy.when is None:
        return True
    judged = Judged(command.status, command.result)
    try:
        return evaluate_condition(policy.when, step.scope.context(judged),
                                  functions=WORKFLOW_FUNCTIONS)
    except ExprError as exc:
        step.fail(str(exc.at_field(f"tasks.{task.name}.retry.when")), run)
        return False


def _timer_fired(step: Step, timer: str) -> None:
    target = step.state.timers.get(timer)
    if target is None:
        return  # already handled, or dropped by a cancel
    if isinstance(target, ChildKey):
        step.emit(RetryDue(at=step.now, child=target))
        return
    run = step.state.runs[target]
    step.begin(run.task, run.run, run.via, joined=False)


def _cancel(step: Step, by: str | None) -> None:
    affected = step.timer_runs()
    timers = tuple(step.state.timers)
    step.emit(WorkflowCancelRequested(at=step.now, by=by))
    if timers:
        step.decision.effects.append(CancelTimers(timers=timers))
    if step.state.graph.definition.cancellation_policy == "cancel_running":
        step.signal("cancel")
    step.check_settled(affected)
    for run in step.state.runs.values():  # runs held back by a pause or a failure
        if run.status == "running" and step.is_settled(run):
            step.queue(run)


def _rerun(step: Step, command: Rerun) -> None:
    state = step.state
    if not state.finished:
        raise InvalidTransitionError(
            f"the workflow is {state.status}; only a finished workflow can be rerun")
    if command.tasks is None:
        keys = list(dict.fromkeys(state.unhandled))
        if not keys:
            raise InvalidTransitionError("no failed task to rerun from; name the tasks")
    else:
        keys = []
        for name in command.tasks:
            if name not in state.graph.tasks:
                raise ValidationError(f"tasks: unknown task {name!r}",
                                      details=[{"field": "tasks",
                                                "message": f"unknown task {name!r}"}])
            if name not in state.latest:
                raise ValidationError(f"tasks: task {name!r} never ran, so it cannot be "
                                      "rerun", details=[{"field": "tasks",
                                                         "message": "never ran"}])
            keys.append((name, state.latest[name]))
    unrouted = [key for key in state.unrouted if key not in keys]
    step.emit(WorkflowRerunStarted(at=step.now, runs=keys, by=command.by))
    for key in keys:
        run = state.runs[key]
        if run.units == 0:  # never got children (items failed to render): start anew
            step.begin(run.task, run.run, run.via, joined=False)
        elif step.is_settled(run):
            step.queue(run)
    for key in unrouted:  # finished while the workflow failed: route them now
        if state.status == "running":
            step.transitions(state.runs[key])
