"""Runtimes (how workers run actions), as packs define them in runtimes/*.yaml."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from attune.api.models.base import PageQuery, Response
from attune.domain.runtime import Family


class RuntimeOut(Response):
    ref: str
    pack_ref: str = Field(description="the pack that defines it")
    name: str
    label: str
    description: str
    enabled: bool
    family: Family = Field(description="which workers run it (attune.work.<family>)")
    aliases: list[str] = Field(description="other names an action's runner_type may use")
    execution_config: dict[str, Any] = Field(
        description="interpreter, environment, dependencies, env_vars, builtin")
    distributions: dict[str, Any] = Field(description="verification commands")
    versions: list[dict[str, Any]] = Field(
        description="specific versions, each with its complete execution_config")
    source: Literal["pack", "api"]
    created: datetime | None = None
    updated: datetime | None = None


class RuntimeListQuery(PageQuery):
    q: str | None = Field(default=None, max_length=255,
                          description="words that must all appear in ref, label, "
                                      "description or pack (case-insensitive)")
    pack_ref: str | None = Field(default=None, max_length=255,
                                 description="only runtimes of this pack")
    family: Family | None = Field(default=None, description="only runtimes of this family")
    enabled: bool | None = None
