"""Workflows (actions whose graph the executor's conductor runs) and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from attune.api.models.base import PageQuery, Request, Response
from attune.domain.params import ParamSpec

_DOCUMENT = ("the workflow document as JSON: version, parameters (or input), vars, "
             "tasks, output, ... (attune/workflow/README.md)")


class WorkflowOut(Response):
    ref: str
    pack_ref: str
    name: str
    label: str
    description: str
    enabled: bool
    parameters: dict[str, ParamSpec]
    timeout_seconds: int | None
    tags: list[str]
    #: the canonical model (legacy fields already converted to `next` transitions)
    definition: dict[str, Any]
    created: datetime | None = None
    updated: datetime | None = None


class WorkflowListQuery(PageQuery):
    pack_ref: str | None = Field(default=None, max_length=255,
                                 description="only the workflows of this pack")


class WorkflowCreateRequest(Request):
    ref: str = Field(min_length=3, max_length=255,
                     description="<pack>.<name> of a registered pack")
    definition: dict[str, Any] = Field(description=_DOCUMENT)


class WorkflowUpdateRequest(Request):
    definition: dict[str, Any] = Field(description=_DOCUMENT)


class WorkflowValidateRequest(Request):
    definition: dict[str, Any] = Field(description=_DOCUMENT)
    name: str | None = Field(default=None, max_length=200,
                             description="the workflow's name in the pack, when it has one")


class ProblemOut(Response):
    field: str
    message: str
    severity: Literal["error", "warning"]


class WorkflowValidationOut(Response):
    valid: bool
    errors: list[ProblemOut]
    warnings: list[ProblemOut]


class WorkflowRunOut(Response):
    """A workflow execution's state: its status and each task run (start order)."""

    execution_id: int
    status: str
    error: str | None
    tasks: list[dict[str, Any]]
    in_flight: list[dict[str, Any]]
    timers: list[str]


class ExecutionNodeOut(Response):
    """An execution in a tree of executions: a workflow's children are its task runs."""

    id: int
    action_ref: str
    status: str
    #: the workflow task (run, item, attempt) this execution is, when it is a child
    task: str | None = None
    run: int | None = None
    item: int | None = None
    attempt: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    children: list[ExecutionNodeOut] = Field(default_factory=list)
