"""Request, query and response bases, envelopes, auth and health bodies."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

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


# -- fields shared by component bodies ------------------------------------------------------

Ref = Annotated[str, Field(min_length=3, max_length=255,
                           description="<pack>.<name>; the pack must be registered")]
Label = Annotated[str, Field(min_length=1, max_length=255)]
Description = Annotated[str, Field(max_length=10_000)]
Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]],
                 Field(max_length=50)]
Schema = Annotated[dict[str, ParamSpec],
                   Field(description="flat schema: name -> {type, required, default, ...}")]
