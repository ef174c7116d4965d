"""What a workflow expression sees (`attune.expr.Context`):

    parameters            the workflow's input (validated)
    workflow              its variables (`vars`, published); aliases `vars`, `variables`,
                          and bare names as a last resort
    task / tasks          task name -> {status, result, run, ...the result's fields}
    config                the pack's config
    keystore              keys, looked up lazily through the injected lookup
    item / index          the current with_items element (a list for a batch) and its index
    system                workflow_start, execution id... (from the executor)
    result() succeeded() failed() timed_out() cancelled()
                          the run (or attempt) being judged: in a transition the finished
                          task, in a task's input the task whose transition started it

A `Scope` is built once per decision; each context from it costs one small object
(two more dict entries inside with_items): the namespaces are the state's own dicts,
not copies (expressions only read them).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from attune.expr import JSON, Context, ContextFunction, ExprArityError
from attune.expr.lazy import LazyNamespace, Lookup
from attune.workflow.state import WorkflowState

#: Key name -> its (decrypted) value, or None when there is no such key.
Keystore = Lookup
#: The `keystore` namespace: fetches a key the first time an expression asks for it.
KeystoreView = LazyNamespace


@dataclass(frozen=True, slots=True)
class Judged:
    """The status and result the workflow functions report."""

    status: str | None
    result: Any


NOTHING = Judged(None, None)
_FUNCTIONS = ("result", "succeeded", "failed", "timed_out", "cancelled")


def _call(name: str, judged: Judged, args: Sequence[JSON]) -> JSON:
    if args:
        raise ExprArityError(f"{name}() takes no arguments, got {len(args)}")
    status = judged.status
    match name:
        case "result":
            return judged.result  # type: ignore[no-any-return]
        case "succeeded":
            return status == "succeeded"
        case "failed":
            return status in ("failed", "abandoned")
        case "timed_out":
            return status == "timeout"
        case _:
            return status == "cancelled"


class WorkflowFunctions(Mapping[str, ContextFunction]):
    """The workflow functions of one judged run or attempt. Nothing is allocated per
    function until an expression calls one (scopes are built for every child)."""

    __slots__ = ("_judged",)

    def __init__(self, judged: Judged) -> None:
        self._judged = judged

    def __getitem__(self, name: str) -> ContextFunction:
        if name not in _FUNCTIONS:
            raise KeyError(name)
        return functools.partial(_call, name, self._judged)

    def __iter__(self) -> Iterator[str]:
        return iter(_FUNCTIONS)

    def __len__(self) -> int:
        return len(_FUNCTIONS)


class Scope:
    """The namespaces of one workflow for one decision; `context()` adds what is
    judged and the current item. The namespace values are the state's own dicts."""

    def __init__(self, state: WorkflowState, keystore: Keystore | None) -> None:
        self.state = state
        keys = KeystoreView(keystore)
        self.base: dict[str, Any] = {
            "parameters": state.parameters, "workflow": state.vars, "vars": state.vars,
            "variables": state.vars, "task": state.task_view, "tasks": state.task_view,
            "config": state.config, "keystore": keys, "system": state.system,
        }

    def context(self, judged: Judged = NOTHING, item: tuple[Any, int] | None = None
                ) -> Context:
        variables = self.base
        if item is not None:
            variables = {**self.base, "item": item[0], "index": item[1]}
        return Context(variables, functions=WorkflowFunctions(judged),
                       fallback=self.state.vars)
