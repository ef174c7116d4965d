"""Audit events and entity history: answers and filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from attune.api.models.base import PageQuery, Query, Response


class AuditListQuery(PageQuery):
    kind: Literal["request", "change"] | None = None
    actor: str | None = Field(default=None, max_length=255, description="login")
    category: str | None = Field(default=None, max_length=64,
                                 description="resource, e.g. rules, keys, artifacts")
    outcome: Literal["success", "denied", "failure", "error"] | None = None
    resource_ref: str | None = Field(default=None, max_length=255)
    request_id: str | None = Field(default=None, max_length=128)
    since: datetime | None = Field(default=None, description="at or after (ISO 8601)")
    until: datetime | None = Field(default=None, description="before (ISO 8601)")


class AuditEventOut(Response):
    id: int
    kind: Literal["request", "change"]
    at: datetime
    request_id: str | None = None
    actor: str | None = None
    actor_id: int | None = None
    token_type: str | None = None
    category: str = Field(description="the RBAC resource concerned, or api")
    event_type: str = Field(description="a change's event type (rule.defined), or a "
                            "request's method and route (PUT /api/v1/rules/{ref})")
    action: str | None = None
    resource_ref: str | None = None
    outcome: str
    status: int | None = None
    duration_ms: float | None = None


class RequestIdPath(Query):
    request_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")


class HistoryPath(Query):
    entity: str = Field(min_length=1, max_length=32, description="rule, action, key, "
                        "trigger, sensor, policy, runtime, pack, identity, permission-set, "
                        "artifact")
    ref: str = Field(min_length=1, max_length=400)


class ChangeOut(Response):
    sequence: int
    at: datetime
    event_type: str
    actor: str | None = None
    request_id: str | None = None
    summary: dict[str, Any] = Field(description="what changed: the definition fields that "
                                    "differ from before, or the event's fields (never "
                                    "secret values)")
