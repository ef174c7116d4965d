"""Identities: who can log in. The aggregate key is the login (unique by construction:
creation appends with expected version 0 on the login's subject)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from attune.domain.events import Event, register


@register
class IdentityCreated(Event):
    type: Literal["identity.created"] = "identity.created"
    login: str
    display_name: str
    #: Argon2id hash (never the password).
    password_hash: str
    permission_set_refs: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)


@register
class IdentityPasswordChanged(Event):
    type: Literal["identity.password_changed"] = "identity.password_changed"
    login: str
    password_hash: str


@register
class IdentityUpdated(Event):
    """Display name and/or attributes changed (None: unchanged)."""

    type: Literal["identity.updated"] = "identity.updated"
    login: str
    display_name: str | None = None
    attributes: dict[str, Any] | None = None


@register
class IdentityFrozen(Event):
    """The identity's tokens stop working at once (checked on every request)."""

    type: Literal["identity.frozen"] = "identity.frozen"
    login: str


@register
class IdentityUnfrozen(Event):
    type: Literal["identity.unfrozen"] = "identity.unfrozen"
    login: str


@register
class IdentityDeleted(Event):
    """Gone for good; the login is not reused (its history stays in the stream)."""

    type: Literal["identity.deleted"] = "identity.deleted"
    login: str


@register
class PermissionSetAssigned(Event):
    type: Literal["identity.permission_set_assigned"] = "identity.permission_set_assigned"
    login: str
    permission_set_ref: str


@register
class PermissionSetUnassigned(Event):
    type: Literal["identity.permission_set_unassigned"] = \
        "identity.permission_set_unassigned"
    login: str
    permission_set_ref: str


@register
class IntegrationTokenCreated(Event):
    """An `attune_it_…` token for this identity. Only its SHA-256 is recorded: the
    token itself is shown once, in the answer to its creation."""

    type: Literal["identity.integration_token_created"] = \
        "identity.integration_token_created"
    login: str
    token_id: str
    #: what the token is for, as its creator named it
    label: str
    token_sha256: str
    expires_at: datetime | None = None


@register
class IntegrationTokenRevoked(Event):
    type: Literal["identity.integration_token_revoked"] = \
        "identity.integration_token_revoked"
    login: str
    token_id: str
