"""Audit: who did what, with which token, to which resource, with what outcome.

Two sources make the audit trail:

* domain changes are the events of ATTUNE_EVENTS themselves — each carries its actor
  and its request (correlation) id in the envelope, so the trail of changes is derived
  from the stream and cannot miss one;
* API requests are recorded by the API in `RequestsAudited` batches on their own stream
  (ATTUNE_AUDIT, subject `attune.audit.api.requests`), one message per batch, so the
  request path only appends a record to a list in memory.

A request record never holds a body, a query string or a secret path segment (the
webhook key): only the route template, named refs and ids, and the outcome. Pure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from attune.domain.events import Event, register

Outcome = Literal["success", "denied", "failure", "error"]
#: aggregates (subject token) -> the RBAC resource they belong to
RESOURCE_OF = {"execution": "executions", "pack": "packs", "identity": "identities",
               "action": "actions", "trigger": "triggers", "rule": "rules",
               "event": "events", "enforcement": "enforcements", "policy": "policies",
               "runtime": "runtimes", "key": "keys", "permission_set": "permissions",
               "artifact": "artifacts", "workflow": "executions", "inquiry": "inquiries",
               "sensor": "sensors"}


def outcome_of(status: int) -> Outcome:
    if status >= 500:
        return "error"
    if status in (401, 403):
        return "denied"
    return "failure" if status >= 400 else "success"


class RequestRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: datetime
    request_id: str
    method: str
    #: the route template (`/api/v1/keys/{ref}`), or the path when no route matched
    route: str
    status: int
    outcome: Outcome
    duration_ms: float
    actor: str | None = None
    actor_id: int | None = None
    token_type: str | None = None
    resource: str | None = None
    action: str | None = None
    #: the ref or id the path names (never a secret segment)
    resource_ref: str | None = None


@register
class RequestsAudited(Event):
    type: Literal["audit.requests"] = "audit.requests"
    records: list[RequestRecord]
