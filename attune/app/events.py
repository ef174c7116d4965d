"""Creating events — from the API (sensors, administrators) and webhooks alike: the
trigger must exist and be enabled, the payload must fit the trigger's `out_schema`,
and a sensor may only emit events of its own trigger types.

An event is one `event.created` message; its id is the stream sequence. With a
`trigger_instance_id` the message id is derived from the trigger and that id, so the
same instance posted again (within the stream's duplicate window, 2 h) gives back the
first event's id instead of a second event.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import uuid4

from attune.app import triggers
from attune.app.context import Context
from attune.domain.params import ParamSchema, validate_parameters
from attune.domain.trigger_event import EventCreated, EventSource
from attune.errors import ConflictError, ForbiddenError, ValidationError
from attune.eventstore.envelope import Meta


def check_payload(trigger_ref: str, schema: ParamSchema, payload: dict[str, Any]) -> None:
    """The fields `schema` declares must fit it; fields it does not declare are allowed
    (a trigger's out_schema describes what it promises, not all a sender may add).
    The payload is kept as sent: no defaults are filled in."""
    if not schema:
        return
    declared = {name: value for name, value in payload.items() if name in schema}
    try:
        validate_parameters(schema, declared)
    except ValidationError as exc:
        details = [{"field": f"payload.{d['field']}", "message": d["message"]}
                   for d in exc.details or []]
        problems = "; ".join(d["message"] for d in exc.details or [])
        raise ValidationError(f"payload does not fit the out_schema of trigger "
                              f"{trigger_ref!r}: {problems}", details=details) from None


def instance_msg_id(trigger_ref: str, trigger_instance_id: str) -> str:
    return f"event:{trigger_ref}:{trigger_instance_id}"


async def create(ctx: Context, trigger_ref: str, payload: dict[str, Any], *,
                 source: EventSource, meta: Meta, source_ref: str | None = None,
                 trigger_instance_id: str | None = None,
                 metadata: dict[str, Any] | None = None,
                 allowed_triggers: Collection[str] | None = None,
                 rule_ref: str | None = None) -> int:
    """Append `event.created`; returns the event id. `allowed_triggers` is the
    sensor token's `trigger_types` (None: the caller is not limited to some)."""
    if allowed_triggers is not None and trigger_ref not in allowed_triggers:
        shown = ", ".join(sorted(allowed_triggers)) or "none"
        raise ForbiddenError(f"this sensor token may only emit events of its trigger types "
                             f"({shown}), not {trigger_ref!r}")
    trigger = await triggers.definition(ctx, trigger_ref)
    if not trigger.enabled:
        raise ConflictError(f"trigger {trigger_ref!r} is disabled: enable it (POST "
                            f"/api/v1/triggers/{trigger_ref}/enable) to accept its events")
    check_payload(trigger_ref, trigger.out_schema, payload)
    if rule_ref is not None:
        rule_trigger = await ctx.pool.fetchval("SELECT trigger_ref FROM rules WHERE ref = $1",
                                               rule_ref)
        if rule_trigger != trigger_ref:
            raise ValidationError(
                f"rule_ref: {rule_ref!r} is not a rule of trigger {trigger_ref!r}"
                if rule_trigger else f"rule_ref: no rule {rule_ref!r} (see `attune rule list`)")
    event = EventCreated(at=ctx.clock(), trigger_ref=trigger_ref, payload=payload,
                         rule_ref=rule_ref, source=source, source_ref=source_ref,
                         trigger_instance_id=trigger_instance_id, metadata=metadata or {})
    msg_id = (instance_msg_id(trigger_ref, trigger_instance_id) if trigger_instance_id
              else uuid4().hex)
    return await ctx.store.create(event, msg_id=msg_id, meta=meta)
