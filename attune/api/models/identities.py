"""Identities, self-service auth (register, change password, integration tokens) and
RBAC (permission sets, assignments): bodies and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from attune.api.models.base import PageQuery, Query, Request, Response
from attune.domain.permission import Grant

Login = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^\S(.*\S)?$",
                             description="unique; no leading or trailing spaces")]
Password = Annotated[str, Field(min_length=8, max_length=1024,
                                description="at least 8 characters")]
DisplayName = Annotated[str, Field(min_length=1, max_length=255)]
Attributes = Annotated[dict[str, Any], Field(max_length=100,
                                             description="free-form JSON attributes")]
SetRef = Annotated[str, Field(min_length=3, max_length=255, description="e.g. core.viewer")]


# -- identities ---------------------------------------------------------------------------------

class IdentityCreateRequest(Request):
    login: Login
    password: Password
    display_name: DisplayName | None = None
    attributes: Attributes = Field(default_factory=dict)
    permission_set_refs: list[SetRef] = Field(default_factory=list, max_length=50)


class IdentityUpdateRequest(Request):
    display_name: DisplayName | None = None
    attributes: Attributes | None = Field(default=None, description="replaces them all")
    password: Password | None = Field(default=None, description="set a new password "
                                      "(administrators; users use /auth/change-password)")


class IdentityListQuery(PageQuery):
    q: str | None = Field(default=None, max_length=200, description="words in login or "
                          "display name")
    frozen: bool | None = None


class IdentityPath(Query):
    id: int = Field(ge=1, le=2**63 - 1, description="identity id")


class IdentityOut(Response):
    id: int
    login: str
    display_name: str
    frozen: bool
    attributes: dict[str, Any]
    permission_set_refs: list[str]
    created: datetime
    updated: datetime


class IdentityPermissionsOut(Response):
    identity_id: int
    login: str
    permission_set_refs: list[str]
    grants: list[Grant] = Field(description="the grants of all its permission sets")


class AssignRequest(Request):
    permission_set_ref: SetRef


# -- self-service auth --------------------------------------------------------------------------

class RegisterRequest(Request):
    login: Login
    password: Password
    display_name: DisplayName | None = None


class ChangePasswordRequest(Request):
    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: Password


class TokenLoginRequest(Request):
    token: Annotated[str, Field(min_length=10, max_length=200,
                                description="an integration token, attune_it_...")]


class MessageOut(Response):
    success: bool = True
    message: str


# -- integration tokens -------------------------------------------------------------------------

class IntegrationTokenCreateRequest(Request):
    label: Annotated[str, Field(min_length=1, max_length=255,
                                description="what the token is for")]
    ttl_seconds: Annotated[int, Field(ge=60, le=5 * 365 * 86400)] | None = Field(
        default=None, description="the token expires this many seconds from now; never "
        "when left out")


class IntegrationTokenPath(Query):
    id: int = Field(ge=1, le=2**63 - 1, description="identity id")
    token_id: str = Field(min_length=1, max_length=64)


class IntegrationTokenOut(Response):
    id: str
    identity_id: int
    label: str
    created: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class IntegrationTokenCreatedOut(IntegrationTokenOut):
    token: str = Field(description="shown this once: only its hash is kept")


# -- permission sets and assignments ------------------------------------------------------------

class PermissionSetCreateRequest(Request):
    ref: Annotated[str, Field(min_length=3, max_length=255,
                              pattern=r"^[a-z0-9_-]+\.[A-Za-z0-9_.-]+$",
                              description="<pack>.<name>; the pack must be registered")]
    label: Annotated[str, Field(min_length=1, max_length=255)]
    description: Annotated[str, Field(max_length=10_000)] = ""
    grants: list[Grant] = Field(
        max_length=200, description="[{resource, actions[], constraints?: {pack_refs, "
        "refs, owner}}]")


class PermissionSetUpdateRequest(Request):
    label: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    description: Annotated[str, Field(max_length=10_000)] | None = None
    grants: list[Grant] | None = Field(default=None, max_length=200)


class PermissionSetOut(Response):
    ref: str
    pack_ref: str
    label: str
    description: str
    grants: list[Grant]
    source: str
    created: datetime
    updated: datetime


class AssignmentCreateRequest(Request):
    identity_id: Annotated[int, Field(ge=1)]
    permission_set_ref: SetRef


class AssignmentListQuery(PageQuery):
    identity_id: int | None = Field(default=None, ge=1)
    permission_set_ref: str | None = Field(default=None, max_length=255)


class AssignmentOut(Response):
    id: int
    identity_id: int
    login: str
    permission_set_ref: str
    created: datetime
