"""The execution aggregate: its events, its state and the pure state machine.

    requested -> scheduled -> running -> completed | failed | timeout | abandoned
    requested -> scheduling (queued by a policy) -> scheduled
    requested | scheduled -> cancelled             (cancel before a worker has it)
    running -> canceling -> cancelled              (the worker stops the process)
    any non-terminal -> timeout                    (the monitor, when time ran out)

`decide(state, command, now)` returns the events a command produces or raises
`InvalidTransitionError`; `evolve(state, event)` folds one event into state.
Later statuses (canceling, cancelled, timeout, abandoned) are already part of
the status set so read models and clients know them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, assert_never

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.action import ActionDef
from attune.domain.events import Event, register
from attune.errors import InvalidTransitionError


class Status(StrEnum):
    REQUESTED = "requested"
    SCHEDULING = "scheduling"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELING = "canceling"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    ABANDONED = "abandoned"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.TIMEOUT,
                      Status.ABANDONED})

DEFAULT_TIMEOUT_SECONDS = 600
#: Not yet on a worker: a cancellation ends these at once.
WAITING = (Status.REQUESTED, Status.SCHEDULING, Status.SCHEDULED)


# -- events ---------------------------------------------------------------------------------

@register
class ExecutionRequested(Event):
    """Somebody (or something) asked for an action to run.

    Carries a snapshot of the action as it was, so a later pack change never
    alters an execution already requested. Secret parameter values are sealed
    (`{"$sealed": ...}`) before this event is built.
    """

    type: Literal["execution.requested"] = "execution.requested"
    action: ActionDef
    pack_path: str
    parameters: dict[str, Any]
    env_vars: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: int
    requested_by: int | None = None
    parent: int | None = None
    enforcement: int | None = None
    #: Set when a rule asked for it: the rule, its trigger and the event that matched.
    rule_ref: str | None = None
    trigger_ref: str | None = None
    event_id: int | None = None
    #: The execution this one re-runs.
    rerun_of: int | None = None
    #: A workflow's child: which task run, item and attempt it is
    #: (`attune.workflow.ChildKey` as JSON); `parent` is the workflow's execution.
    workflow_task: dict[str, Any] | None = None


@register
class ExecutionQueued(Event):
    """A policy holds it back for now, or no capable worker is there to place it on
    (status `scheduling`); `reason` says which."""

    type: Literal["execution.queued"] = "execution.queued"
    reason: str
    #: The policy admission it waits in or holds (None when only placement holds it).
    admission_key: str | None = None


@register
class ExecutionScheduled(Event):
    type: Literal["execution.scheduled"] = "execution.scheduled"
    #: The work queue subject the execution was handed to.
    queue: str
    #: The admission (policy slot) it holds until it ends, when a policy applies.
    admission_key: str | None = None


@register
class ExecutionStarted(Event):
    type: Literal["execution.started"] = "execution.started"
    worker: str


class Outcome(BaseModel):
    """What a run produced. `data` is the parsed output for json/yaml/jsonl actions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_ms: int = 0
    data: Any = None
    error: str | None = None
    #: The worker stopped it: its time ran out / it was cancelled.
    timed_out: bool = False
    cancelled: bool = False


@register
class ExecutionCompleted(Event):
    type: Literal["execution.completed"] = "execution.completed"
    outcome: Outcome


@register
class ExecutionFailed(Event):
    type: Literal["execution.failed"] = "execution.failed"
    outcome: Outcome


@register
class ExecutionAbandoned(Event):
    """The worker running it was lost; its outcome is unknown."""

    type: Literal["execution.abandoned"] = "execution.abandoned"
    reason: str


@register
class ExecutionCancelRequested(Event):
    """Cancellation of a running execution was asked for; its worker stops it."""

    type: Literal["execution.cancel_requested"] = "execution.cancel_requested"
    by: str | None = None


@register
class ExecutionCancelled(Event):
    type: Literal["execution.cancelled"] = "execution.cancelled"
    by: str | None = None
    #: What the run produced before it was stopped (None when it never ran).
    outcome: Outcome | None = None


@register
class ExecutionTimedOut(Event):
    type: Literal["execution.timed_out"] = "execution.timed_out"
    reason: str
    outcome: Outcome | None = None


ExecutionEvent = (ExecutionRequested | ExecutionQueued | ExecutionScheduled | ExecutionStarted
                  | ExecutionCompleted | ExecutionFailed | ExecutionAbandoned
                  | ExecutionCancelRequested | ExecutionCancelled | ExecutionTimedOut)


# -- commands -------------------------------------------------------------------------------

class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Schedule(_Command):
    type: Literal["schedule"] = "schedule"
    queue: str
    admission_key: str | None = None


class Queue(_Command):
    type: Literal["queue"] = "queue"
    reason: str
    admission_key: str | None = None


class Start(_Command):
    type: Literal["start"] = "start"
    worker: str


class Finish(_Command):
    type: Literal["finish"] = "finish"
    outcome: Outcome


class Abandon(_Command):
    type: Literal["abandon"] = "abandon"
    reason: str


class Cancel(_Command):
    type: Literal["cancel"] = "cancel"
    by: str | None = None


class TimeOut(_Command):
    """From the timeout monitor: the execution's time ran out before it finished."""

    type: Literal["time_out"] = "time_out"
    reason: str


ExecutionCommand = Schedule | Queue | Start | Finish | Abandon | Cancel | TimeOut


# -- state ----------------------------------------------------------------------------------

class ExecutionState(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    status: Status
    action_ref: str
    worker: str | None = None
    #: Why it waits, while `scheduling` (the last `execution.queued` reason).
    waiting_reason: str | None = None


def evolve(state: ExecutionState | None, event: ExecutionEvent, *, id: int) -> ExecutionState:
    """Fold one event into the state. `id` is the aggregate id (its creation sequence)."""
    match event:
        case ExecutionRequested():
            return ExecutionState(id=id, status=Status.REQUESTED, action_ref=event.action.ref)
        case ExecutionQueued():
            return _require(state).model_copy(update={"status": Status.SCHEDULING,
                                                      "waiting_reason": event.reason})
        case ExecutionScheduled():
            return _require(state).model_copy(update={"status": Status.SCHEDULED})
        case ExecutionStarted():
            return _require(state).model_copy(update={"status": Status.RUNNING,
                                                      "worker": event.worker})
        case ExecutionCompleted():
            return _require(state).model_copy(update={"status": Status.COMPLETED})
        case ExecutionFailed():
            return _require(state).model_copy(update={"status": Status.FAILED})
        case ExecutionAbandoned():
            return _require(state).model_copy(update={"status": Status.ABANDONED})
        case ExecutionCancelRequested():
            return _require(state).model_copy(update={"status": Status.CANCELING})
        case ExecutionCancelled():
            return _require(state).model_copy(update={"status": Status.CANCELLED})
        case ExecutionTimedOut():
            return _require(state).model_copy(update={"status": Status.TIMEOUT})
        case _:
            assert_never(event)


def decide(state: ExecutionState, command: ExecutionCommand, *, now: datetime
           ) -> list[ExecutionEvent]:
    """The events `command` produces from `state`; empty when it is already done
    (commands are idempotent under redelivery)."""
    match command:
        case Schedule():
            if state.status in (Status.REQUESTED, Status.SCHEDULING):
                return [ExecutionScheduled(at=now, queue=command.queue,
                                           admission_key=command.admission_key)]
            return []  # scheduled already, running or ended
        case Queue():
            # from `scheduling` too when the reason changed (admitted by its policy, it
            # may wait for a capable worker)
            if state.status is Status.REQUESTED or (
                    state.status is Status.SCHEDULING
                    and command.reason != state.waiting_reason):
                return [ExecutionQueued(at=now, reason=command.reason,
                                        admission_key=command.admission_key)]
            return []
        case Start():
            if state.status is Status.SCHEDULED:
                return [ExecutionStarted(at=now, worker=command.worker)]
            if state.status.terminal:
                return []
        case Finish():
            if state.status in (Status.RUNNING, Status.SCHEDULED, Status.CANCELING):
                return [_finished(state, command.outcome, now)]
            if state.status.terminal:
                return []
        case Abandon():
            if state.status in (Status.RUNNING, Status.SCHEDULED, Status.CANCELING):
                return [ExecutionAbandoned(at=now, reason=command.reason)]
            if state.status.terminal:
                return []
        case Cancel():
            if state.status in WAITING:
                return [ExecutionCancelled(at=now, by=command.by)]
            if state.status is Status.RUNNING:
                return [ExecutionCancelRequested(at=now, by=command.by)]
            if state.status is Status.CANCELING:
                return []
        case TimeOut():
            if state.status in (*WAITING, Status.RUNNING, Status.CANCELING):
                return [ExecutionTimedOut(at=now, reason=command.reason)]
            if state.status.terminal:
                return []
        case _:
            assert_never(command)
    raise InvalidTransitionError(
        f"execution {state.id} is {state.status.value}; cannot {command.type}")


def _finished(state: ExecutionState, outcome: Outcome, now: datetime) -> ExecutionEvent:
    if state.status is Status.CANCELING or outcome.cancelled:
        return ExecutionCancelled(at=now, outcome=outcome)
    if outcome.timed_out:
        return ExecutionTimedOut(at=now, reason=outcome.error or "timed out", outcome=outcome)
    if outcome.exit_code == 0 and outcome.error is None:
        return ExecutionCompleted(at=now, outcome=outcome)
    return ExecutionFailed(at=now, outcome=outcome)


def _require(state: ExecutionState | None) -> ExecutionState:
    if state is None:
        raise InvalidTransitionError("execution history does not start with execution.requested")
    return state


def replay(id: int, events: list[ExecutionEvent]) -> ExecutionState:
    state: ExecutionState | None = None
    for event in events:
        state = evolve(state, event, id=id)
    return _require(state)


def admission_key(events: list[ExecutionEvent]) -> str | None:
    """The policy admission an execution holds or waits in, if any."""
    for event in reversed(events):
        if isinstance(event, ExecutionScheduled | ExecutionQueued):
            return event.admission_key
    return None
