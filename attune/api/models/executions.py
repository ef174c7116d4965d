"""Executions: requests, re-runs, what the API shows of them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from attune.api.models.base import ENV_NAME, PageQuery, Request, Response
from attune.domain.execution import Outcome, Status

# -- executions ---------------------------------------------------------------------------------

class ExecuteRequest(Request):
    action_ref: Annotated[str, Field(min_length=1, max_length=255)]
    parameters: dict[str, Any] = Field(default_factory=dict)
    env_vars: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: Annotated[int | None, Field(gt=0)] = None

    @field_validator("env_vars")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        # the worker passes these to exec(): a bad name or a NUL byte cannot be set
        for name, text in value.items():
            if not ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)")
            if "\0" in text:
                raise ValueError(f"{name}: value contains a NUL byte")
        return value


class RerunRequest(Request):
    """Parameters to change; the others are the original's (secrets included)."""

    parameters: dict[str, Any] = Field(default_factory=dict)


class ExecutionOut(Response):
    id: int
    action_ref: str
    status: Status
    parameters: dict[str, Any] = Field(description="secret values are redacted")
    env_vars: dict[str, str]
    timeout_seconds: int
    result: Outcome | None
    worker: str | None
    requested_by: int | None
    parent: int | None
    enforcement: int | None
    created: datetime
    updated: datetime
    started_at: datetime | None
    finished_at: datetime | None
    #: what started it when a rule did (None for manual runs)
    rule_ref: str | None = None
    trigger_ref: str | None = None
    event_id: int | None = None
    #: why it is not running yet (a policy's limit, or no capable worker), while it waits
    waiting_reason: str | None = None
    #: a workflow execution's task states (GET /executions/{id} only): its status and
    #: each task run with its children's progress (attune/workflow/view.py)
    workflow: dict[str, Any] | None = None


class ExecutionAccepted(Response):
    """Answer of execute when the read model has not caught up yet: poll the id."""

    id: int
    status: Literal["requested"] = "requested"
    action_ref: str


class ExecutionListQuery(PageQuery):
    status: Status | None = Field(default=None, description="only executions in this status")
    action_ref: str | None = Field(default=None, max_length=255,
                                   description="only executions of this action")
    rule_ref: str | None = Field(default=None, max_length=255,
                                 description="only executions a rule requested: its ref, or "
                                             "`pack.*` for any rule of a pack")
    trigger_ref: str | None = Field(default=None, max_length=255,
                                    description="only executions started by events of this "
                                                "trigger (`pack.*` allowed)")
    enforcement: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                    description="only the execution of this enforcement")
