"""Identities: who can log in. The aggregate key is the login (unique by construction:
creation appends with expected version 0 on the login's subject)."""

from __future__ import annotations

from typing import Literal

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


@register
class IdentityPasswordChanged(Event):
    type: Literal["identity.password_changed"] = "identity.password_changed"
    login: str
    password_hash: str
