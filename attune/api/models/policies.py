"""Policies: concurrency and rate limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from attune.api.models.base import Description, Label, PageQuery, Ref, Request, Response, Tags

# -- policies ---------------------------------------------------------------------------------

class ConcurrencyRequest(Request):
    limit: Annotated[int, Field(ge=1, le=100_000, description="executions at once (per group)")]
    method: Literal["enqueue", "cancel"] = Field(
        default="enqueue", description="over the limit: wait in FIFO order, or be cancelled")
    parameters: Annotated[list[Annotated[str, Field(min_length=1, max_length=255)]],
                          Field(max_length=20, description="parameters whose values group "
                                "executions: the limit holds per group")] = Field(
        default_factory=list)


class RateLimitRequest(Request):
    max_executions: Annotated[int, Field(ge=1, le=1_000_000)]
    window_seconds: Annotated[int, Field(ge=1, le=86_400 * 7)]


Priority = Annotated[int, Field(ge=-1_000_000, le=1_000_000,
                                description="within a scope the highest priority wins")]
TargetRef = Annotated[str, Field(min_length=1, max_length=255)]


class PolicyCreateRequest(Request):
    """Give exactly one target: `action_ref` (one action) or `pack_ref` (every action
    of a pack); and concurrency and/or rate_limit."""

    ref: Ref
    label: Label | None = None
    description: Description = ""
    enabled: bool = True
    priority: Priority = 0
    action_ref: TargetRef | None = None
    pack_ref: TargetRef | None = Field(default=None, description="every action of this pack")
    concurrency: ConcurrencyRequest | None = None
    rate_limit: RateLimitRequest | None = None
    tags: Tags = Field(default_factory=list)


class PolicyUpdateRequest(Request):
    """The fields to change; the others keep their value. Setting `action_ref` or
    `pack_ref` moves the policy to that target; `concurrency: null` or `rate_limit: null`
    removes that limit."""

    label: Label | None = None
    description: Description | None = None
    enabled: bool | None = None
    priority: Priority | None = None
    action_ref: TargetRef | None = None
    pack_ref: TargetRef | None = None
    concurrency: ConcurrencyRequest | None = None
    rate_limit: RateLimitRequest | None = None
    tags: Tags | None = None


class ConcurrencyOut(Response):
    limit: int
    method: Literal["enqueue", "cancel"]
    parameters: list[str]


class RateLimitOut(Response):
    max_executions: int
    window_seconds: int


class PolicyOut(Response):
    ref: str
    pack_ref: str = Field(description="the pack the policy belongs to")
    label: str
    description: str
    enabled: bool
    priority: int
    action_ref: str | None = Field(description="the action it governs (or null)")
    target_pack_ref: str | None = Field(description="the pack whose every action it "
                                                    "governs (or null)")
    concurrency: ConcurrencyOut | None
    rate_limit: RateLimitOut | None
    tags: list[str]
    source: Literal["pack", "api"]
    created: datetime | None = None
    updated: datetime | None = None


class ActionPolicyOut(PolicyOut):
    effective: bool = Field(description="the one policy that governs the action's "
                                        "executions (action scope beats pack scope, then "
                                        "the highest priority)")


class PolicyListQuery(PageQuery):
    q: str | None = Field(default=None, max_length=255,
                          description="words that must all appear in ref, label, "
                                      "description or pack (case-insensitive)")
    pack_ref: str | None = Field(default=None, max_length=255,
                                 description="only policies belonging to this pack")
    action_ref: str | None = Field(default=None, max_length=255,
                                   description="only policies targeting this action")
    enabled: bool | None = None
