"""The canonical workflow model: what every workflow file becomes after parsing.

    WorkflowDef  ref, parameters (flat schema), vars, tasks, output, cancellation_policy
    TaskDef      name, action, input, next[Transition], with_items, join, retry,
                 timeout, delay
    Transition   when, publish, do          (every matching one fires, in order)

Legacy forms (`on_success`, `decision`, task-level `publish`, Orquesta's `with:` and
list-shaped `input`/`vars`/`output`) are converted by `attune.workflow.parse`; nothing
downstream ever sees them. Values that may hold `{{ }}` templates are kept as written
and rendered by the conductor at run time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.params import ParamSchema

#: Reserved `do` targets (Orquesta's engine commands): `fail` fails the workflow,
#: `noop` and `continue` do nothing (a matched transition already counts as handling).
ENGINE_COMMANDS = frozenset({"fail", "noop", "continue"})

CancellationPolicy = Literal["allow_finish", "cancel_running"]
#: No wait (delay, retry backoff) is longer than a year, whatever the backoff computes.
MAX_WAIT_SECONDS = 31_536_000.0


class Backoff(StrEnum):
    CONSTANT = "constant"
    LINEAR = "linear"
    EXPONENTIAL = "exponential"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Transition(_Frozen):
    """`next[]` entry: when `when` holds (absent = always), publish then start `do`."""

    when: str | None = None
    #: Variables to publish into the `workflow` namespace, in order (values are templates).
    publish: dict[str, Any] = Field(default_factory=dict)
    do: tuple[str, ...] = ()


class WithItems(_Frozen):
    """One child per item (or per batch of `batch_size` items), `concurrency` in flight."""

    #: A template that yields an array, e.g. "{{ parameters.hosts }}", or a literal list.
    items: str | list[Any]
    #: At most this many children in flight (a sliding window); an int or a template.
    concurrency: int | str = 1
    #: When set, each child gets a list of up to this many items (`item` is the list,
    #: `index` the batch number).
    batch_size: int | None = None


class RetryPolicy(_Frozen):
    """Run a failed child again, up to `count` more times."""

    count: int
    #: Seconds before the first retry.
    delay: float = 0.0
    backoff: Backoff = Backoff.CONSTANT
    max_delay: float | None = None
    #: Retry only while this condition holds (default: the attempt failed or timed out).
    when: str | None = None

    def delay_before(self, retry_number: int) -> float:
        """Seconds to wait before retry number `retry_number` (1-based)."""
        match self.backoff:
            case Backoff.CONSTANT:
                wait = self.delay
            case Backoff.LINEAR:
                wait = self.delay * retry_number
            case Backoff.EXPONENTIAL:
                wait = self.delay * 2.0 ** min(retry_number - 1, 60)
        if self.max_delay is not None:
            wait = min(wait, self.max_delay)
        return min(wait, MAX_WAIT_SECONDS)


class TaskDef(_Frozen):
    name: str
    #: Action ref to run (may itself be a workflow); None for a routing-only task.
    action: str | None = None
    input: dict[str, Any] = Field(default_factory=dict)
    next: tuple[Transition, ...] = ()
    with_items: WithItems | None = None
    #: None: the task runs each time a transition reaches it. An int: it runs once that
    #: many inbound tasks reached it. "all": once every inbound task reached it.
    join: int | Literal["all"] | None = None
    retry: RetryPolicy | None = None
    #: Seconds a child may run before it is timed out (its `timed_out()` branch).
    timeout: int | None = None
    #: Seconds to wait before the task starts.
    delay: float | None = None
    #: UI-only layout data, kept as written.
    chart_meta: dict[str, Any] | None = None


class WorkflowDef(_Frozen):
    ref: str | None = None
    label: str | None = None
    description: str = ""
    version: str = "1.0"
    parameters: ParamSchema = Field(default_factory=dict)
    #: Initial workflow variables, rendered in order at start (each sees the earlier ones).
    vars: dict[str, Any] = Field(default_factory=dict)
    tasks: tuple[TaskDef, ...]
    #: The workflow's result: name -> template, rendered when it ends.
    output: dict[str, Any] = Field(default_factory=dict)
    #: A declared schema of the output (documentation only), as written.
    output_schema: dict[str, Any] | None = None
    cancellation_policy: CancellationPolicy = "allow_finish"
    tags: tuple[str, ...] = ()

    def task(self, name: str) -> TaskDef:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(name)
