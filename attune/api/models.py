"""Every body the HTTP API reads or writes, and its query strings, as pydantic models.

Request bodies forbid unknown fields and are validated strictly (no `"3"` for 3), so a
typo or a wrong type is a 422 naming the field instead of a silently ignored value.
`API_MODELS` names every body model; `attune schemas export` writes their JSON Schemas.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from attune.domain.action import OutputFormat, ParameterDelivery, ParameterFormat, Runtime
from attune.domain.execution import Outcome, Status
from attune.domain.params import ParamSpec

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Query(BaseModel):
    # query strings are text: numbers and booleans are converted (lax), names are not
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- envelopes --------------------------------------------------------------------------------

class ErrorBody(Response):
    """Every error: a message for humans, a stable code for programs."""

    error: str
    code: str
    details: Any = None


class Pagination(Response):
    page: int
    page_size: int
    has_next: bool
    has_previous: bool
    total_items: int | None = None
    total_pages: int | None = None


class PageQuery(Query):
    page: int = Field(default=1, ge=1, le=1_000_000, description="1-based page number")
    page_size: int = Field(default=50, ge=1, le=100,
                           validation_alias=AliasChoices("page_size", "per_page"),
                           description="items per page (max 100); `per_page` is an alias")
    include_total: bool = Field(default=False,
                                description="also count total_items and total_pages")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def fetch_limit(self) -> int:
        """One row more than a page: its presence says whether there is a next page."""
        return self.page_size + 1


class RefPath(Query):
    ref: str = Field(min_length=1, max_length=255, description="reference, e.g. core.echo")


class IdPath(Query):
    id: int = Field(ge=1, le=2**63 - 1, description="numeric id")


# -- auth ---------------------------------------------------------------------------------------

class LoginRequest(Request):
    login: Annotated[str, Field(min_length=1, max_length=128)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class RefreshRequest(Request):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class UserOut(Response):
    id: int
    login: str
    display_name: str


class TokenOut(Response):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: UserOut


# -- health -------------------------------------------------------------------------------------

class HealthOut(Response):
    status: Literal["ok"] = "ok"
    version: str


class ReadyOut(Response):
    status: Literal["ready"] = "ready"
    nats: Literal["connected"] = "connected"
    postgres: Literal["ok"] = "ok"
    stream_sequence: int
    projection_position: int
    lag: int


# -- packs and actions ---------------------------------------------------------------------------

class PackRegisterRequest(Request):
    path: Annotated[str, Field(min_length=1, max_length=4096,
                               description="absolute directory of the pack on the server")]


class ActionOut(Response):
    ref: str
    pack_ref: str
    name: str
    label: str
    description: str
    enabled: bool
    runtime: Runtime
    entry_point: str
    parameters: dict[str, ParamSpec]
    parameter_delivery: ParameterDelivery
    parameter_format: ParameterFormat
    output_format: OutputFormat
    timeout_seconds: int | None
    tags: list[str]
    created: datetime | None = None
    updated: datetime | None = None


class PackOut(Response):
    ref: str
    label: str
    description: str
    version: str
    author: str | None
    email: str | None
    system: bool
    enabled: bool
    tags: list[str]
    path: str
    created: datetime | None = None
    updated: datetime | None = None


class PackDetailOut(PackOut):
    actions: list[ActionOut]


class ActionListQuery(PageQuery):
    pack_ref: str | None = Field(default=None, max_length=255,
                                 description="only actions of this pack")


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


class ExecutionAccepted(Response):
    """Answer of execute when the read model has not caught up yet: poll the id."""

    id: int
    status: Literal["requested"] = "requested"
    action_ref: str


class ExecutionListQuery(PageQuery):
    status: Status | None = Field(default=None, description="only executions in this status")
    action_ref: str | None = Field(default=None, max_length=255,
                                   description="only executions of this action")


API_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model for model in (
        ErrorBody, Pagination, LoginRequest, RefreshRequest, UserOut, TokenOut, HealthOut,
        ReadyOut, PackRegisterRequest, ActionOut, PackOut, PackDetailOut, ExecuteRequest,
        ExecutionOut, ExecutionAccepted)
}
