"""Packs and actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from attune.api.models.base import PageQuery, Request, Response
from attune.domain.action import OutputFormat, ParameterDelivery, ParameterFormat, Runtime
from attune.domain.params import ParamSpec

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
