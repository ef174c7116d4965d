"""Packs and the actions they ship.

A pack is one aggregate (`attune.pack.<ref>.*`); its actions travel inside the
`pack.registered` event so a registration is one atomic fact, and the actions
read model is derived from it.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.events import Event, register
from attune.domain.params import ParamSchema

PACK_REF = re.compile(r"^[a-z][a-z0-9_-]*$")
ACTION_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")

Runtime = Literal["shell", "python", "nodejs", "native"]

#: Name aliases accepted in `runner_type`, mapped to the runtime that runs them.
RUNTIME_ALIASES: dict[str, Runtime] = {
    "shell": "shell", "bash": "shell", "sh": "shell", "core.shell": "shell",
    "python": "python", "python3": "python", "core.python": "python",
    "node": "nodejs", "nodejs": "nodejs", "node.js": "nodejs", "core.nodejs": "nodejs",
    "native": "native", "core.native": "native", "standalone": "native", "builtin": "native",
}

ParameterFormat = Literal["json", "dotenv", "yaml"]
ParameterDelivery = Literal["stdin", "file"]
OutputFormat = Literal["text", "json", "yaml", "jsonl"]


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
    entry_point: str
    parameters: ParamSchema = Field(default_factory=dict)
    parameter_delivery: ParameterDelivery = "stdin"
    parameter_format: ParameterFormat = "json"
    output_format: OutputFormat = "text"
    timeout_seconds: int | None = None
    tags: list[str] = Field(default_factory=list)


class PackDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str
    label: str
    description: str = ""
    version: str
    author: str | None = None
    email: str | None = None
    system: bool = False
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    #: Absolute directory the pack was registered from (workers read files there).
    path: str


@register
class PackRegistered(Event):
    """A pack was registered or re-registered; its action list replaces the previous one."""

    type: Literal["pack.registered"] = "pack.registered"
    pack: PackDef
    actions: list[ActionDef]
