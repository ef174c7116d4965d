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

Building one costs a dozen dict entries: the namespaces are the state's own dicts,
not copies (expressions only read them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from attune.expr import JSON, Context, ExprArityError
from attune.workflow.state import WorkflowState

Keystore = Callable[[str], Any]
"""Key name -> its (decrypted) value, or None when there is no such key."""


class KeystoreView(dict[str, Any]):
    """The `keystore` namespace: a dict that fetches a key the first time an expression
    asks for it (so a workflow never loads keys it does not use)."""

    def __init__(self, lookup: Keystore | None) -> None:
        super().__init__()
        self._lookup = lookup

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        if self._lookup is None or not isinstance(key, str):
            return False
        value = self._lookup(key)
        if value is None:
            return False
        self[key] = value
        return True


@dataclass(frozen=True, slots=True)
class Judged:
    """The status and result the workflow functions report."""

    status: str | None
    result: Any


NOTHING = Judged(None, None)


def _function(name: str, value: Callable[[], JSON]) -> Callable[[Sequence[JSON]], JSON]:
    def call(args: Sequence[JSON]) -> JSON:
        if args:
            raise ExprArityError(f"{name}() takes no arguments, got {len(args)}")
        return value()
    return call


def context(state: WorkflowState, keystore: KeystoreView, judged: Judged = NOTHING,
            item: tuple[Any, int] | None = None) -> Context:
    variables: dict[str, Any] = {
        "parameters": state.parameters, "workflow": state.vars, "vars": state.vars,
        "variables": state.vars, "task": state.task_view, "tasks": state.task_view,
        "config": state.config, "keystore": keystore, "system": state.system,
    }
    if item is not None:
        variables["item"], variables["index"] = item
    status = judged.status
    functions = {
        "result": _function("result", lambda: judged.result),
        "succeeded": _function("succeeded", lambda: status == "succeeded"),
        "failed": _function("failed", lambda: status in ("failed", "abandoned")),
        "timed_out": _function("timed_out", lambda: status == "timeout"),
        "cancelled": _function("cancelled", lambda: status == "cancelled"),
    }
    return Context(variables, functions=functions, fallback=state.vars)
