"""A workflow's children, as the orchestrator (`attune.app.workflows`) handles them:
requests prepared like any (validated, secrets sealed) with their parent and
`workflow_task`, found again for signals, their endings turned into what the conductor
takes; and the end of the workflow's own execution."""

from __future__ import annotations

import time
from typing import Any

import attune.log as log
from attune.app import executions
from attune.app.context import Context
from attune.domain import execution as ex
from attune.domain.action import ActionDef
from attune.errors import AttuneError, InvalidTransitionError
from attune.eventstore.envelope import Meta
from attune.workflow import ChildEnded, ChildKey, FinishWorkflow, RequestChild

_log = log.get("workflows")
#: Children's actions are read again after this long, so a pack change is seen soon.
ACTION_CACHE_SECONDS = 2.0

#: The execution status each terminal event stands for.
_TERMINAL: dict[type, str] = {
    ex.ExecutionCompleted: "completed", ex.ExecutionFailed: "failed",
    ex.ExecutionCancelled: "cancelled", ex.ExecutionTimedOut: "timeout",
    ex.ExecutionAbandoned: "abandoned"}


def is_workflow(action: ActionDef) -> bool:
    return action.workflow is not None


def terminal_status(event: ex.ExecutionEvent) -> str:
    return _TERMINAL[type(event)]


def child_result(action: ActionDef, event: ex.ExecutionEvent) -> Any:
    """What a finished child hands its workflow: a workflow child its output, an action
    child its outcome as JSON (`{exit_code, stdout, stderr, data, error, ...}`)."""
    outcome = getattr(event, "outcome", None)
    if outcome is None:
        reason = getattr(event, "reason", None)
        return {"error": reason} if reason else None
    if is_workflow(action):
        return outcome.data if outcome.error is None else {"error": outcome.error,
                                                            **(outcome.data or {})}
    return outcome.model_dump(mode="json")


class Children:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        #: action ref -> (definition, pack directory, when read)
        self._actions: dict[str, tuple[ActionDef, str, float]] = {}

    async def action(self, ref: str) -> tuple[ActionDef, str]:
        now = time.monotonic()
        cached = self._actions.get(ref)
        if cached is not None and now - cached[2] < ACTION_CACHE_SECONDS:
            return cached[0], cached[1]
        action, pack_path = await executions.load_action(self.ctx, ref)
        self._actions[ref] = (action, pack_path, now)
        return action, pack_path

    async def prepare(self, execution_id: int, requests: list[RequestChild],
                      failed: list[ChildEnded]
                      ) -> list[tuple[RequestChild, ex.ExecutionRequested]]:
        """The `execution.requested` events of these children of workflow
        `execution_id`; a child that cannot be requested (unknown action, bad
        parameters) is added to `failed` as a failed child with the reason."""
        actions: dict[str, tuple[ActionDef, str] | AttuneError] = {}
        prepared: list[tuple[RequestChild, ex.ExecutionRequested]] = []
        for effect in requests:
            if effect.action not in actions:
                try:
                    actions[effect.action] = await self.action(effect.action)
                except AttuneError as exc:
                    actions[effect.action] = exc
            found = actions[effect.action]
            try:
                if isinstance(found, AttuneError):
                    raise found
                action, pack_path = found
                prepared.append((effect, executions.prepare(
                    self.ctx, action, pack_path, effect.parameters,
                    timeout_seconds=effect.timeout_seconds, parent=execution_id,
                    workflow_task=effect.workflow_task())))
            except AttuneError as exc:
                failed.append(ChildEnded(child=effect.child, status="failed",
                                         result={"error": exc.message}))
        return prepared

    async def find(self, execution_id: int, keys: tuple[ChildKey, ...]
                   ) -> list[tuple[int, bool]]:
        """The executions of these children (id, whether it is a workflow), from the
        `workflow_children` read model (the children's requests name parent and key)."""
        wanted = {k.label() for k in keys}
        rows = await self.ctx.pool.fetch(
            "SELECT execution_id, task, run, item, attempt, is_workflow "
            "FROM workflow_children WHERE parent = $1", execution_id)
        found = []
        for r in rows:
            key = ChildKey(task=r["task"], run=r["run"], item=r["item"], attempt=r["attempt"])
            if key.label() in wanted:
                found.append((r["execution_id"], r["is_workflow"]))
        return found


async def finish_execution(ctx: Context, execution_id: int, effect: FinishWorkflow,
                           meta: Meta) -> None:
    """End the workflow's execution: succeeded -> completed (its output as data), failed,
    cancelled. One that already ended (timed out from outside) is left as it is."""
    failed = effect.status == "failed"
    outcome = ex.Outcome(exit_code=1 if failed else 0, data=effect.output,
                         error=effect.error if failed else None,
                         cancelled=effect.status == "cancelled")
    try:
        await executions.handle(ctx, execution_id, ex.Finish(outcome=outcome),
                                meta=meta, msg_id=f"execution:{execution_id}:finished")
    except InvalidTransitionError as exc:
        _log.info("workflow.finish_skipped", execution_id=execution_id, reason=exc.message)
