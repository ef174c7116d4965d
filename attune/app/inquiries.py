"""Inquiries: `core.ask` executions wait for a human's response.

The executor begins a `core.ask` execution itself (no worker runs it): it marks it
running and appends `inquiry.created`. A response (validated against the inquiry's
`response_schema`) completes the execution with `{"response": ...}` as its data, so a
workflow task asking goes on with `result().data.response`; the timeout ends it
`timeout` (a workflow's `timed_out()` branch); a cancellation ends both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attune.log as log
from attune.app import executions
from attune.app.authorization import allowed
from attune.app.context import Context
from attune.app.identities import Identity
from attune.domain import execution as ex
from attune.domain import inquiry as iq
from attune.domain.params import ParamSpec
from attune.errors import (
    AttuneError,
    ConcurrencyError,
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
)
from attune.eventstore.envelope import Envelope, Meta
from attune.security.crypto import is_sealed

_log = log.get("inquiries")
MAX_ATTEMPTS = 5
#: The response schema when `core.ask` names none: a yes/no answer.
DEFAULT_SCHEMA: dict[str, ParamSpec] = {
    "approved": ParamSpec(type="boolean", required=True,
                          description="true to approve, false to refuse")}

#: Where the executor keeps an inquiry's timeout: (inquiry id, due).
TimeoutSink = Callable[[int, datetime], None]


def is_ask(action_ref: str) -> bool:
    return action_ref == iq.ASK_ACTION


async def load(ctx: Context, inquiry_id: int) -> tuple[iq.InquiryState, int]:
    try:
        envelopes, version = await ctx.store.load("inquiry", inquiry_id,
                                                  created_at=inquiry_id)
    except AttuneError:
        raise NotFoundError(f"inquiry {inquiry_id} not found: GET /api/v1/inquiries lists "
                            "them") from None
    events: list[iq.InquiryEvent] = [e.event for e in envelopes]  # type: ignore[misc]
    return iq.replay(inquiry_id, events), version


async def _handle(ctx: Context, inquiry_id: int, command: iq.InquiryCommand, *,
                  meta: Meta) -> tuple[iq.InquiryState, int, bool]:
    """Decide and append with OCC retries: (state, version, whether anything changed)."""
    for attempt in range(MAX_ATTEMPTS):
        state, version = await load(ctx, inquiry_id)
        events = iq.decide(state, command, now=ctx.clock())
        try:
            for i, event in enumerate(events):
                version = await ctx.store.append(
                    inquiry_id, event, expected_version=version,
                    msg_id=f"inquiry:{inquiry_id}:{command.type}:{i}", meta=meta)
                state = iq.evolve(state, event, id=inquiry_id)
        except ConcurrencyError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            continue
        return state, version, bool(events)
    raise AssertionError("unreachable")


def _schema(raw: Any) -> dict[str, ParamSpec]:
    if raw in (None, {}):
        return DEFAULT_SCHEMA
    if not isinstance(raw, dict):
        raise ValidationError("response_schema must be a mapping of field -> "
                              "{type, required, ...} (the flat parameter format)")
    try:
        return {str(k): ParamSpec.model_validate(v) for k, v in raw.items()}
    except ValueError as exc:
        raise ValidationError(f"response_schema: {exc}") from None


async def begin(ctx: Context, env: Envelope, *, on_timeout: TimeoutSink | None = None
                ) -> None:
    """A `core.ask` execution was requested: run it (no worker) by creating its
    inquiry; a redelivery finds the same inquiry (its creation is deduplicated)."""
    requested = env.event
    assert isinstance(requested, ex.ExecutionRequested)
    execution_id = env.aggregate_id
    meta = env.meta.caused_by(env)
    current, version, _ = await executions.load(ctx, execution_id)
    if current.status is ex.Status.REQUESTED:
        current, version = await executions.handle(
            ctx, execution_id, ex.Schedule(queue="attune.inquiry"), meta=meta,
            msg_id=f"execution:{execution_id}:scheduled", known=(current, version))
    if current.status is ex.Status.SCHEDULED:
        await executions.handle(ctx, execution_id, ex.Start(worker="attune:conductor"),
                                meta=meta, msg_id=f"execution:{execution_id}:started",
                                known=(current, version))
    elif current.status is not ex.Status.RUNNING:
        return  # cancelled or timed out before it began
    if await of_execution(ctx, execution_id) is not None:
        return  # begun before (a redelivery, or the orchestrator's repair)
    params = {k: (ctx.sealer.open(v) if is_sealed(v) else v)
              for k, v in requested.parameters.items()}
    now = ctx.clock()
    try:
        schema = _schema(params.get("response_schema"))
    except ValidationError as exc:
        await executions.handle(ctx, execution_id, ex.Finish(outcome=ex.Outcome(
            exit_code=1, error=exc.message)), meta=meta,
            msg_id=f"execution:{execution_id}:finished")
        return
    timeout = params.get("timeout") or iq.DEFAULT_TIMEOUT_SECONDS
    created = iq.InquiryCreated(
        at=now, execution_id=execution_id, workflow_execution_id=requested.parent,
        prompt=str(params.get("prompt") or ""), response_schema=schema,
        assigned_to=params.get("assigned_to") or None,
        timeout_at=now + timedelta(seconds=int(timeout)))
    inquiry_id = await ctx.store.create(created, msg_id=f"inquiry-for:{execution_id}",
                                        meta=meta)
    if on_timeout is not None:
        on_timeout(inquiry_id, created.timeout_at)


async def respond(ctx: Context, inquiry_id: int, response: dict[str, Any], *,
                  user: Identity, meta: Meta) -> int:
    """Answer an inquiry: only its assignee, or someone who may manage inquiries, when
    it is assigned. The asking execution completes with the response."""
    state, _ = await load(ctx, inquiry_id)
    if (state.assigned_to is not None and state.assigned_to != user.login
            and not allowed(user, "inquiries", "manage")):
        raise ForbiddenError(f"inquiry {inquiry_id} is assigned to {state.assigned_to!r}: "
                             "only they (or someone allowed to manage inquiries) may answer")
    state, version, _ = await _handle(ctx, inquiry_id, iq.Respond(
        response=response, by=user.login), meta=meta)
    assert state.response is not None
    try:
        _, version = await executions.handle(
            ctx, state.execution_id, ex.Finish(outcome=ex.Outcome(
                exit_code=0, data={"response": state.response})),
            meta=meta, msg_id=f"execution:{state.execution_id}:finished")
    except InvalidTransitionError as exc:  # the execution ended meanwhile
        _log.info("inquiry.execution_ended", inquiry=inquiry_id, reason=exc.message)
    return version


async def time_out(ctx: Context, inquiry_id: int, *, meta: Meta) -> None:
    state, _, changed = await _handle(ctx, inquiry_id, iq.TimeOut(), meta=meta)
    if changed:
        with contextlib.suppress(InvalidTransitionError):  # it ended meanwhile
            await executions.handle(ctx, state.execution_id, ex.TimeOut(
                reason="the inquiry was not answered in time"), meta=meta,
                msg_id=f"execution:{state.execution_id}:timed_out")


async def cancel(ctx: Context, inquiry_id: int, *, by: str | None, meta: Meta) -> int:
    """Cancel an inquiry and the execution waiting on it."""
    state, version, _ = await _handle(ctx, inquiry_id, iq.Cancel(by=by), meta=meta)
    await finish_cancelled(ctx, state.execution_id, by=by, meta=meta)
    return version


async def finish_cancelled(ctx: Context, execution_id: int, *, by: str | None,
                           meta: Meta) -> None:
    """Cancel the asking execution: no worker stops it, so it ends here."""
    try:
        current, version, _ = await executions.load(ctx, execution_id)
        if current.status is ex.Status.RUNNING:
            current, version = await executions.handle(
                ctx, execution_id, ex.Cancel(by=by), meta=meta,
                msg_id=f"execution:{execution_id}:cancel-inquiry", known=(current, version))
        if current.status is ex.Status.CANCELING:
            await executions.handle(
                ctx, execution_id, ex.Finish(outcome=ex.Outcome(
                    exit_code=None, cancelled=True, error="the inquiry was cancelled")),
                meta=meta, msg_id=f"execution:{execution_id}:finished",
                known=(current, version))
    except InvalidTransitionError:
        pass  # it ended meanwhile


async def of_execution(ctx: Context, execution_id: int) -> int | None:
    found: int | None = await ctx.pool.fetchval(
        "SELECT id FROM inquiries WHERE execution_id = $1", execution_id)
    return found


async def on_cancel_requested(ctx: Context, execution_id: int, *, by: str | None,
                              meta: Meta) -> None:
    """The asking execution is being cancelled (its workflow, or a user): the inquiry
    is cancelled with it."""
    inquiry_id = await of_execution(ctx, execution_id)
    if inquiry_id is not None:
        await _handle(ctx, inquiry_id, iq.Cancel(by=by), meta=meta)
    await finish_cancelled(ctx, execution_id, by=by, meta=meta)
