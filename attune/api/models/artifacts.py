"""Artifacts: bodies and answers (the shapes the SDK's artifact helpers read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from attune.api.models.base import PageQuery, Query, Request, Response
from attune.domain.artifact import ArtifactType, RetentionPolicy, Scope, Visibility

ArtifactRef = Annotated[str, Field(min_length=1, max_length=255,
                                   pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$",
                                   description="letters, digits, _ . : -, e.g. "
                                               "mypack.build.log")]
Text = Annotated[str, Field(max_length=10_000)]
ContentType = Annotated[str, Field(min_length=1, max_length=255)]
Limit = Annotated[int, Field(ge=1, le=1_000_000)]
Owner = Annotated[str, Field(max_length=255)]


class ArtifactFields(Request):
    scope: Scope = "system"
    owner: Owner = ""
    visibility: Visibility = "private"
    retention_policy: RetentionPolicy | None = Field(
        default=None, description="versions (keep the newest N) or days/hours/minutes "
        "(drop older versions); default versions, 10")
    retention_limit: Limit | None = None
    name: Text | None = None
    description: Text | None = None
    content_type: ContentType | None = None


class ArtifactCreateRequest(ArtifactFields):
    ref: ArtifactRef
    type: ArtifactType
    execution: int | None = Field(default=None, ge=1, description="the execution it "
                                  "belongs to (defaults to the caller's, for actions)")
    data: Any = Field(default=None, description="a url artifact's URL; a progress "
                      "artifact's first entries (a list); other small JSON")


class ArtifactUpdateRequest(Request):
    """Fields left out stay as they are; ref and type never change."""

    scope: Scope | None = None
    owner: Owner | None = None
    visibility: Visibility | None = None
    retention_policy: RetentionPolicy | None = None
    retention_limit: Limit | None = None
    name: Text | None = None
    description: Text | None = None
    content_type: ContentType | None = None
    execution: int | None = Field(default=None, ge=1)
    data: Any = None


class AllocateFileRequest(ArtifactFields):
    """`POST /artifacts/ref/{ref}/versions/file`: the artifact is created when missing."""

    type: ArtifactType = "file_text"
    execution: int | None = Field(default=None, ge=1)
    created_by: Annotated[str, Field(max_length=255)] | None = None
    meta: dict[str, Any] | None = None


class DataRequest(Request):
    data: Any = Field(description="the artifact's data: a URL, progress entries, any JSON")


class JsonVersionRequest(Request):
    content: Any = Field(description="any JSON value: stored as the version's content")
    content_type: ContentType = "application/json"


class ProgressRequest(Request):
    entry: Any = Field(description="any JSON value (at most 64 KiB)")


class ArtifactListQuery(PageQuery):
    type: ArtifactType | None = None
    scope: Scope | None = None
    owner: str | None = Field(default=None, max_length=255)
    execution: int | None = Field(default=None, ge=1)
    q: str | None = Field(default=None, max_length=200, description="words in the ref "
                          "or name")


class ArtifactOut(Response):
    id: int
    ref: str
    type: str
    scope: str
    owner: str
    visibility: str
    name: str | None = None
    description: str | None = None
    content_type: str | None = None
    retention_policy: str
    retention_limit: int
    execution: int | None = None
    data: Any = None
    created_by: str | None = None
    versions: int = Field(description="versions kept now")
    latest_version: int | None = None
    created: datetime
    updated: datetime


class VersionOut(Response):
    id: int
    artifact: int
    version: int
    content_type: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    object_key: str | None = None
    file_path: str | None = Field(default=None, description="allocated versions: where "
                                  "to write, relative to ATTUNE_ARTIFACTS_DIR")
    body_state: Literal["stored", "allocated"]
    execution: int | None = None
    created_by: str | None = None
    meta: dict[str, Any] | None = None
    created: datetime


class ArtifactIdPath(Query):
    id: int = Field(ge=1, le=2**63 - 1, description="artifact id")


class ArtifactRefPath(Query):
    ref: ArtifactRef


class VersionPath(Query):
    id: int = Field(ge=1, le=2**63 - 1, description="artifact id")
    version: int = Field(ge=1, le=2**31 - 1, description="version number")


class ExecutionIdPath(Query):
    execution_id: int = Field(ge=1, le=2**63 - 1)
