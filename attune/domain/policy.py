"""Policies: limits on how executions of an action (or of every action of a pack) are
admitted — concurrency (`enqueue` waits, `cancel` refuses) grouped by parameter values,
and rate limits. A catalogue component keyed by its ref (`attune.domain.catalog`).

The effective policy of an execution: action scope beats pack scope; within a scope
the highest priority wins (then the ref, for a stable choice).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from attune.domain.catalog import DefinedEvent, Kind
from attune.domain.events import Event, register


class Concurrency(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    limit: int = Field(ge=1, le=100_000)
    method: Literal["enqueue", "cancel"] = "enqueue"
    #: Parameter names whose values group executions: the limit holds per group.
    parameters: list[str] = Field(default_factory=list)


class RateLimit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_executions: int = Field(ge=1, le=1_000_000)
    window_seconds: int = Field(ge=1, le=86_400 * 7)


class PolicyDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str
    pack_ref: str
    label: str
    description: str = ""
    enabled: bool = True
    priority: int = 0
    #: What it applies to: one action, or every action of a pack.
    action_ref: str | None = None
    target_pack_ref: str | None = None
    concurrency: Concurrency | None = None
    rate_limit: RateLimit | None = None
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_target(self) -> PolicyDef:
        if (self.action_ref is None) == (self.target_pack_ref is None):
            raise ValueError("a policy applies to exactly one of action_ref or pack_ref")
        if self.concurrency is None and self.rate_limit is None:
            raise ValueError("a policy needs concurrency or rate_limit (or both)")
        return self


def effective(policies: Iterable[PolicyDef], action_ref: str) -> PolicyDef | None:
    """The one policy that governs `action_ref` among enabled `policies`."""
    pack = action_ref.partition(".")[0]
    scoped = [(0 if p.action_ref == action_ref else 1, -p.priority, p.ref, p)
              for p in policies
              if p.enabled and (p.action_ref == action_ref or p.target_pack_ref == pack)]
    return min(scoped, key=lambda t: t[:3])[3] if scoped else None


@register
class PolicyDefined(DefinedEvent[PolicyDef]):
    type: Literal["policy.defined"] = "policy.defined"


@register
class PolicyEnabled(Event):
    type: Literal["policy.enabled"] = "policy.enabled"


@register
class PolicyDisabled(Event):
    type: Literal["policy.disabled"] = "policy.disabled"


@register
class PolicyDeleted(Event):
    type: Literal["policy.deleted"] = "policy.deleted"


POLICY = Kind(name="policy", defined=PolicyDefined, enabled=PolicyEnabled,
              disabled=PolicyDisabled, deleted=PolicyDeleted)
