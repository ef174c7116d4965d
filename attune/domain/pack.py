"""Packs: the unit of distribution. A pack is an aggregate (`attune.pack.<ref>.*`); what
it ships (actions, triggers, rules...) are aggregates of their own (`attune.domain.catalog`).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.events import Event, register

PACK_REF = re.compile(r"^[a-z][a-z0-9_-]*$")

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
    """A pack was registered or re-registered. Its components are aggregates of their own:
    the same atomic append carries their `<kind>.defined` / `<kind>.deleted` events; this
    event lists the refs the pack has now."""

    type: Literal["pack.registered"] = "pack.registered"
    pack: PackDef
    actions: list[str] = Field(default_factory=list)
    triggers: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    policies: list[str] = Field(default_factory=list)
    runtimes: list[str] = Field(default_factory=list)
    sensors: list[str] = Field(default_factory=list)
