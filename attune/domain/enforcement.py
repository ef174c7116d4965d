"""Enforcements: a rule matched an event. `created -> processed | disabled`; exactly one
per (event, rule): its creation's idempotency key is derived from both."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from attune.domain.events import Event, register


@register
class EnforcementCreated(Event):
    type: Literal["enforcement.created"] = "enforcement.created"
    rule_ref: str
    trigger_ref: str
    event_id: int
    action_ref: str
    #: The event payload as the rule saw it.
    payload: dict[str, Any] = Field(default_factory=dict)
    #: The action parameters rendered from the rule's templates (secrets sealed).
    config: dict[str, Any] = Field(default_factory=dict)
    #: The rule's conditions as they were when it matched.
    conditions: Any = None
    condition: Literal["all", "any"] = "all"


@register
class EnforcementProcessed(Event):
    type: Literal["enforcement.processed"] = "enforcement.processed"
    execution_id: int


@register
class EnforcementDisabled(Event):
    """Matched, but no execution could be requested (e.g. the action is disabled)."""

    type: Literal["enforcement.disabled"] = "enforcement.disabled"
    reason: str
