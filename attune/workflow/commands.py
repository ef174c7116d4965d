"""What drives a workflow: the inputs `decide` takes from the executor (a child
ended, a timer fired, a user's pause/resume/cancel/rerun) and the effects it hands
back for the executor to carry out (request a child, set or drop timers, signal
children, finish the workflow's execution)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from attune.workflow.events import ChildKey, ChildStatus, FinalStatus, WorkflowEvent


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- inputs -----------------------------------------------------------------------------

class ChildEnded(_Frozen):
    """A child execution reached a terminal status (`status_of_execution` maps it)."""

    type: Literal["child_ended"] = "child_ended"
    child: ChildKey
    status: ChildStatus
    result: Any = None


class TimerFired(_Frozen):
    type: Literal["timer_fired"] = "timer_fired"
    timer: str


class Pause(_Frozen):
    type: Literal["pause"] = "pause"
    by: str | None = None


class Resume(_Frozen):
    type: Literal["resume"] = "resume"
    by: str | None = None


class Cancel(_Frozen):
    type: Literal["cancel"] = "cancel"
    by: str | None = None


class Rerun(_Frozen):
    """Run a finished workflow again from `tasks` (default: the tasks that failed it)."""

    type: Literal["rerun"] = "rerun"
    tasks: tuple[str, ...] | None = None
    by: str | None = None


WorkflowCommand = ChildEnded | TimerFired | Pause | Resume | Cancel | Rerun


def status_of_execution(status: str) -> ChildStatus:
    """The child status for an execution's terminal status (`attune.domain.execution`)."""
    mapping: dict[str, ChildStatus] = {
        "completed": "succeeded", "succeeded": "succeeded", "failed": "failed",
        "timeout": "timeout", "cancelled": "cancelled", "abandoned": "abandoned"}
    try:
        return mapping[status]
    except KeyError:
        raise ValueError(f"{status!r} is not a terminal execution status") from None


# -- effects ----------------------------------------------------------------------------

class RequestChild(_Frozen):
    """Request a child execution of `action` with `parameters`, its parent being the
    workflow's execution and its `workflow_task` metadata `child.model_dump()`."""

    type: Literal["request_child"] = "request_child"
    child: ChildKey
    action: str
    parameters: dict[str, Any]
    timeout_seconds: int | None = None

    def workflow_task(self) -> dict[str, Any]:
        return self.child.model_dump()


class ScheduleTimer(_Frozen):
    """Feed `TimerFired(timer)` back at `due` (a task delay or a retry's wait)."""

    type: Literal["schedule_timer"] = "schedule_timer"
    timer: str
    due: datetime


class CancelTimers(_Frozen):
    type: Literal["cancel_timers"] = "cancel_timers"
    timers: tuple[str, ...]


class SignalChildren(_Frozen):
    """Pass a cancel/pause/resume on to running children (pause and resume matter to
    children that are workflows themselves)."""

    type: Literal["signal_children"] = "signal_children"
    signal: Literal["cancel", "pause", "resume"]
    children: tuple[ChildKey, ...]


class FinishWorkflow(_Frozen):
    """The workflow ended: finish its execution with this status and output."""

    type: Literal["finish_workflow"] = "finish_workflow"
    status: FinalStatus
    output: dict[str, Any] | None = None
    error: str | None = None


Effect = RequestChild | ScheduleTimer | CancelTimers | SignalChildren | FinishWorkflow


@dataclass(slots=True)
class Decision:
    """What `decide` produced: events to append (in order) and effects to carry out
    once they are appended."""

    events: list[WorkflowEvent] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
