"""Events: something of a trigger's type happened. Immutable, one message each
(`attune.event.new.created`); the id is its stream sequence."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from attune.domain.events import Event, register

EventSource = Literal["api", "webhook", "sensor", "timer"]


@register
class EventCreated(Event):
    type: Literal["event.created"] = "event.created"
    trigger_ref: str
    payload: dict[str, Any] = Field(default_factory=dict)
    source: EventSource
    #: The sensor, webhook trigger or timer rule that emitted it.
    source_ref: str | None = None
    #: When set, only this rule considers the event (a rule's own timer, for example).
    rule_ref: str | None = None
    #: The emitter's idempotency key: the same one twice creates one event.
    trigger_instance_id: str | None = None
    #: Where it came from (webhooks: client address, user agent, selected headers).
    metadata: dict[str, Any] = Field(default_factory=dict)
