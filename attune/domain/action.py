"""Actions: what workers run. An action is a catalogue component (`attune.domain.catalog`)
keyed by its ref, e.g. `attune.action.core:echo.defined`."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.catalog import DefinedEvent, Kind
from attune.domain.events import Event, register
from attune.domain.params import ParamSchema
from attune.domain.runtime import ALIASES, FAMILIES, Family

ACTION_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")

#: The runtime family: which workers take the action's work (`attune.work.<runtime>`).
Runtime = Family

#: Name aliases accepted in `runner_type`, mapped to the runtime family that runs them.
RUNTIME_ALIASES: dict[str, Runtime] = {
    **ALIASES, **{f"core.{family}": family for family in FAMILIES}}

ParameterFormat = Literal["json", "dotenv", "yaml"]
ParameterDelivery = Literal["stdin", "file"]
OutputFormat = Literal["text", "json", "yaml", "jsonl"]


class Placement(BaseModel):
    """Where an action may run: only on workers that carry every one of these labels
    (`ATTUNE_WORKER_LABELS`); an execution waits, with the reason shown, while no live
    worker does."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    labels: dict[str, str] = Field(default_factory=dict)


class ActionDef(BaseModel):
    """An action as registered: everything a worker needs to run it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str
    pack_ref: str
    name: str
    label: str
    description: str = ""
    enabled: bool = True
    runtime: Runtime
    #: The runtime definition that runs it (`core.python`, or a pack's own runtime);
    #: None means the core runtime of `runtime`.
    runtime_ref: str | None = None
    #: Semver constraint on the runtime's version (`>=3.11`); the highest available wins.
    runtime_version: str | None = None
    entry_point: str
    parameters: ParamSchema = Field(default_factory=dict)
    parameter_delivery: ParameterDelivery = "stdin"
    parameter_format: ParameterFormat = "json"
    output_format: OutputFormat = "text"
    timeout_seconds: int | None = None
    tags: list[str] = Field(default_factory=list)
    placement: Placement | None = None
    #: Permission sets the action's execution token carries (`ATTUNE_API_TOKEN`): what
    #: the action may do through the API — never the requester's permissions. None
    #: named: `core.execution` (see `attune.app.permissions`).
    permission_sets: list[str] = Field(default_factory=list)
    #: A workflow action: its canonical workflow definition (`attune.workflow.WorkflowDef`
    #: as JSON). The executor runs its conductor instead of handing it to a worker.
    workflow: dict[str, Any] | None = None


@register
class ActionDefined(DefinedEvent[ActionDef]):
    type: Literal["action.defined"] = "action.defined"


@register
class ActionEnabled(Event):
    type: Literal["action.enabled"] = "action.enabled"


@register
class ActionDisabled(Event):
    type: Literal["action.disabled"] = "action.disabled"


@register
class ActionDeleted(Event):
    type: Literal["action.deleted"] = "action.deleted"


ACTION = Kind(name="action", defined=ActionDefined, enabled=ActionEnabled,
              disabled=ActionDisabled, deleted=ActionDeleted)
