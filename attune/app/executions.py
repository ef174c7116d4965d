"""Requesting executions and driving their state machine with bounded OCC retries."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from attune.app.context import Context
from attune.domain import execution as ex
from attune.domain.action import ActionDef
from attune.domain.params import secret_names, validate_parameters
from attune.errors import BadRequestError, ConcurrencyError, NotFoundError
from attune.eventstore.envelope import Envelope, Meta
from attune.security.crypto import is_sealed

MAX_ATTEMPTS = 5
RESERVED_ENV_PREFIX = "ATTUNE_"


async def load_action(ctx: Context, ref: str) -> tuple[ActionDef, str]:
    """The action's current definition and its pack's directory, from the read model."""
    row = await ctx.pool.fetchrow(
        "SELECT a.definition, p.path FROM actions a JOIN packs p ON p.ref = a.pack_ref "
        "WHERE a.ref = $1", ref)
    if row is None:
        raise NotFoundError(f"action {ref!r} not found: list actions with `attune action list`")
    return ActionDef.model_validate(row["definition"]), row["path"]


async def request(ctx: Context, action_ref: str, parameters: dict[str, Any], *,
                  meta: Meta, idempotency_key: str | None = None,
                  known_action: tuple[ActionDef, str] | None = None,
                  **details: Any) -> int:
    """Validate and append `execution.requested`; returns the new execution id
    (= its stream sequence, so it is also the sequence to wait for). `known_action` is the
    action's (definition, pack directory) when the caller holds them already (the
    enforcer's rule book), else they are read from the read model. `details` are the
    keyword arguments of `prepare`."""
    action, pack_path = known_action or await load_action(ctx, action_ref)
    event = prepare(ctx, action, pack_path, parameters, **details)
    return await ctx.store.create(event, msg_id=request_msg_id(idempotency_key), meta=meta)


def prepare(ctx: Context, action: ActionDef, pack_path: str, parameters: dict[str, Any], *,
            env_vars: dict[str, str] | None = None, timeout_seconds: int | None = None,
            requested_by: int | None = None, parent: int | None = None,
            enforcement: int | None = None, rule_ref: str | None = None,
            trigger_ref: str | None = None, event_id: int | None = None,
            rerun_of: int | None = None,
            workflow_task: dict[str, Any] | None = None) -> ex.ExecutionRequested:
    """The `execution.requested` event for a request: parameters validated against the
    action's schema and its secret ones sealed. Raises BadRequestError/ValidationError."""
    if not action.enabled:
        raise BadRequestError(f"action {action.ref!r} is disabled")
    resolved = validate_parameters(action.parameters, parameters)
    secrets = secret_names(action.parameters)
    sealed = {k: (ctx.sealer.seal(v) if k in secrets else v) for k, v in resolved.items()}
    env = dict(env_vars or {})
    for name in env:
        if name.upper().startswith(RESERVED_ENV_PREFIX):
            raise BadRequestError(f"env_vars: {name} is reserved (ATTUNE_* cannot be overridden)")
    if timeout_seconds is not None and timeout_seconds <= 0:
        raise BadRequestError("timeout_seconds must be positive")
    timeout = (timeout_seconds or action.timeout_seconds
               or ctx.settings.default_timeout_seconds)
    return ex.ExecutionRequested(
        at=ctx.clock(), action=action, pack_path=pack_path, parameters=sealed, env_vars=env,
        timeout_seconds=timeout, requested_by=requested_by, parent=parent,
        enforcement=enforcement, rule_ref=rule_ref, trigger_ref=trigger_ref, event_id=event_id,
        rerun_of=rerun_of, workflow_task=workflow_task)


def request_msg_id(idempotency_key: str | None) -> str:
    return f"execution-request:{idempotency_key}" if idempotency_key else uuid4().hex


async def load(ctx: Context, execution_id: int
               ) -> tuple[ex.ExecutionState, int, list[Envelope]]:
    envelopes, version = await ctx.store.load("execution", execution_id,
                                              created_at=execution_id)
    events: list[ex.ExecutionEvent] = [e.event for e in envelopes]  # type: ignore[misc]
    return ex.replay(execution_id, events), version, envelopes


async def handle(ctx: Context, execution_id: int, command: ex.ExecutionCommand, *, meta: Meta,
                 msg_id: str, known: tuple[ex.ExecutionState, int] | None = None
                 ) -> tuple[ex.ExecutionState, int]:
    """Decide `command` and append its events. `known` (state, version) skips the
    first load when the caller already holds them (the hot path). On a concurrent
    change: reload, decide again, at most MAX_ATTEMPTS times. Returns the new
    state and version."""
    for attempt in range(MAX_ATTEMPTS):
        if known is None or attempt > 0:
            state, version, _ = await load(ctx, execution_id)
        else:
            state, version = known
        events = ex.decide(state, command, now=ctx.clock())
        try:
            for i, event in enumerate(events):
                version = await ctx.store.append(
                    execution_id, event, expected_version=version,
                    msg_id=f"{msg_id}:{i}" if i else msg_id, meta=meta)
                state = ex.evolve(state, event, id=execution_id)
        except ConcurrencyError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            continue
        return state, version
    raise AssertionError("unreachable")


async def cancel(ctx: Context, execution_id: int, *, by: str | None, meta: Meta
                 ) -> tuple[ex.ExecutionState, int]:
    """Cancel: at once when no worker has it yet, else `canceling` until its worker has
    stopped it. 409 when it already ended."""
    return await handle(ctx, execution_id, ex.Cancel(by=by), meta=meta,
                        msg_id=f"execution:{execution_id}:cancel:{uuid4().hex}")


async def rerun(ctx: Context, execution_id: int, overrides: dict[str, Any], *, meta: Meta,
                requested_by: int | None = None, idempotency_key: str | None = None) -> int:
    """Request the same action again with the original parameters (secrets included),
    `overrides` replacing some; the current action definition is used."""
    original = await ctx.store.read(execution_id)
    if original is None or not isinstance(original.event, ex.ExecutionRequested):
        raise NotFoundError(f"execution {execution_id} not found")
    first = original.event
    parameters = {k: (ctx.sealer.open(v) if is_sealed(v) else v)
                  for k, v in first.parameters.items()}
    parameters.update(overrides)
    return await request(ctx, first.action.ref, parameters, meta=meta,
                         env_vars=first.env_vars, requested_by=requested_by,
                         rerun_of=execution_id, idempotency_key=idempotency_key)
