"""Workflow events: small facts, one per transition of a workflow run.

They belong to the `workflow` aggregate, keyed by the workflow's execution id
(`attune.workflow.<execution id>.<event>`). Only `WorkflowStarted` is large: it
carries the definition (a snapshot, so a later pack change never alters a running
workflow), the parameters and the initial variables. Every later event names the one
task run, child or variable set it changes — never the whole state — so appending
and folding stay constant-cost however large the workflow grows.

`evolve` never evaluates an expression: every value that came from one (published
variables, the items of a with_items task, its concurrency) is in the event, so a
replay reproduces the state exactly even if keys, config or clocks changed since.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from attune.domain.events import Event, register
from attune.workflow.model import WorkflowDef

ChildStatus = Literal["succeeded", "failed", "timeout", "cancelled", "abandoned"]
RunStatus = Literal["delayed", "running", "succeeded", "failed", "timeout", "cancelled",
                    "abandoned"]
FinalStatus = Literal["succeeded", "failed", "cancelled"]


class ChildKey(BaseModel):
    """Which child execution: a task's run (1 for its first activation, 2 when a cycle
    or a second inbound route starts it again), its item (None without with_items) and
    its attempt (1, then 2... on retries). The executor stores these in the child's
    `workflow_task` metadata and hands them back with the child's result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    run: int
    item: int | None = None
    attempt: int = 1

    @property
    def unit(self) -> int:
        return self.item if self.item is not None else 0

    def label(self) -> str:
        item = f"[{self.item}]" if self.item is not None else ""
        return f"{self.task}#{self.run}{item}@{self.attempt}"


@register
class WorkflowStarted(Event):
    type: Literal["workflow.started"] = "workflow.started"
    definition: WorkflowDef
    parameters: dict[str, Any]
    #: The initial variables, already rendered.
    vars: dict[str, Any]
    config: dict[str, Any]
    system: dict[str, Any]


@register
class TaskDelayed(Event):
    """A task was reached but waits `delay` seconds before it starts (timer `timer`)."""

    type: Literal["workflow.task_delayed"] = "workflow.task_delayed"
    task: str
    run: int
    via: str | None = None
    via_run: int | None = None
    joined: bool = False
    until: datetime
    timer: str


@register
class TaskStarted(Event):
    """A task run begins: `items` is the with_items list (None: one child), `concurrency`
    its in-flight limit; `via` the task run whose transition started it."""

    type: Literal["workflow.task_started"] = "workflow.task_started"
    task: str
    run: int
    via: str | None = None
    via_run: int | None = None
    joined: bool = False
    items: list[Any] | None = None
    batch_size: int | None = None
    concurrency: int = 1
    #: Set when its items or concurrency did not evaluate: the run fails at once.
    error: str | None = None


@register
class ChildRequested(Event):
    """The conductor asked the executor to run a child (see the `RequestChild` effect)."""

    type: Literal["workflow.child_requested"] = "workflow.child_requested"
    child: ChildKey


@register
class ChildFinished(Event):
    """A child ended. `retry_at` set (or `retry_now`): it will run again."""

    type: Literal["workflow.child_finished"] = "workflow.child_finished"
    child: ChildKey
    status: ChildStatus
    result: Any = None
    retry_now: bool = False
    retry_at: datetime | None = None


@register
class ChildNotStarted(Event):
    """A child could not be requested: rendering its input failed (`error` says where)."""

    type: Literal["workflow.child_not_started"] = "workflow.child_not_started"
    child: ChildKey
    error: str


@register
class RetryDue(Event):
    """A retry's delay is over: the child is ready to be requested again."""

    type: Literal["workflow.retry_due"] = "workflow.retry_due"
    child: ChildKey


@register
class TaskFinished(Event):
    """Every child of a task run has ended (or it stopped after a failure)."""

    type: Literal["workflow.task_finished"] = "workflow.task_finished"
    task: str
    run: int
    status: RunStatus
    #: Set when the run failed without a child (e.g. its items did not render).
    error: str | None = None


@register
class TransitionTaken(Event):
    """Transition `index` of a finished task run matched; `published` are the rendered
    variables it set (its `do` targets follow as TaskStarted/TaskDelayed events)."""

    type: Literal["workflow.transition_taken"] = "workflow.transition_taken"
    task: str
    run: int
    index: int
    published: dict[str, Any]


@register
class WorkflowFailing(Event):
    """A task failed and no transition handled it (or a `do: fail`, or an expression
    error): no new task starts; the workflow fails once its running children end."""

    type: Literal["workflow.failing"] = "workflow.failing"
    error: str
    task: str | None = None
    run: int | None = None


@register
class WorkflowPauseRequested(Event):
    type: Literal["workflow.pause_requested"] = "workflow.pause_requested"
    by: str | None = None


@register
class WorkflowPaused(Event):
    type: Literal["workflow.paused"] = "workflow.paused"


@register
class WorkflowResumed(Event):
    type: Literal["workflow.resumed"] = "workflow.resumed"
    by: str | None = None


@register
class WorkflowCancelRequested(Event):
    type: Literal["workflow.cancel_requested"] = "workflow.cancel_requested"
    by: str | None = None


@register
class WorkflowRerunStarted(Event):
    """A finished workflow runs again from these task runs: a task without with_items
    runs again; a with_items task keeps its succeeded items and runs the others."""

    type: Literal["workflow.rerun_started"] = "workflow.rerun_started"
    runs: list[tuple[str, int]]
    by: str | None = None


@register
class WorkflowFinished(Event):
    type: Literal["workflow.finished"] = "workflow.finished"
    status: FinalStatus
    output: dict[str, Any] | None = None
    error: str | None = None


WorkflowEvent = (WorkflowStarted | TaskDelayed | TaskStarted | ChildRequested | ChildFinished
                 | ChildNotStarted | RetryDue | TaskFinished | TransitionTaken | WorkflowFailing
                 | WorkflowPauseRequested | WorkflowPaused | WorkflowResumed
                 | WorkflowCancelRequested | WorkflowRerunStarted | WorkflowFinished)
