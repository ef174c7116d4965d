"""Rules: when an event of a trigger arrives and the conditions hold, run an action with
parameters rendered from the event. A rule is a catalogue component keyed by its ref
(`attune.domain.catalog`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.catalog import DefinedEvent, Kind
from attune.domain.events import Event, register
from attune.rules.conditions import Condition


class ExpressionCondition(BaseModel):
    """`{"expression": "{{ event.payload.severity == 'critical' }}"}`"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    expression: str = Field(min_length=1, max_length=10_000)


class RuleDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str
    pack_ref: str
    label: str
    description: str = ""
    enabled: bool = True
    trigger_ref: str
    action_ref: str
    #: The array form (`[{field, operator, value}]`) or the expression form.
    conditions: list[Condition] | ExpressionCondition = Field(default_factory=list)
    #: How array-form conditions combine.
    condition: Literal["all", "any"] = "all"
    #: Templates over `event`, `pack.config` and `system`, rendered per event.
    action_params: dict[str, Any] = Field(default_factory=dict)
    #: Parameters for the trigger's sensor (e.g. a timer's interval), not the action.
    trigger_params: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


@register
class RuleDefined(DefinedEvent[RuleDef]):
    type: Literal["rule.defined"] = "rule.defined"


@register
class RuleEnabled(Event):
    type: Literal["rule.enabled"] = "rule.enabled"


@register
class RuleDisabled(Event):
    type: Literal["rule.disabled"] = "rule.disabled"


@register
class RuleDeleted(Event):
    type: Literal["rule.deleted"] = "rule.deleted"


RULE = Kind(name="rule", defined=RuleDefined, enabled=RuleEnabled, disabled=RuleDisabled,
            deleted=RuleDeleted)
