"""RBAC: permission sets of grants, and the pure decision whether grants permit an
action on a resource (optionally on one object of it).

A grant is `{resource, actions[], constraints?}`; there are no deny grants, so the
grants of all of an identity's permission sets are simply OR-ed. Constraints narrow a
grant to some objects and must all match:

    pack_refs   the object's pack is one of these (`*` wildcards allowed)
    refs        the object's ref matches one of these (`*` wildcards allowed)
    owner       self: only objects the caller owns (its own keys, executions, identity)

`manage` on a resource includes every other action on it except `decrypt`; the
resource `*` and the action `*` are what `core.admin` holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from attune.domain.events import Event, register

RESOURCES = ("packs", "actions", "rules", "triggers", "sensors", "executions", "events",
             "enforcements", "inquiries", "keys", "artifacts", "runtimes", "workers",
             "identities", "permissions", "audit_log", "policies")
ACTIONS = ("read", "create", "update", "delete", "execute", "cancel", "respond", "decrypt",
           "manage")
ANY = "*"


class Constraints(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pack_refs: list[str] | None = None
    refs: list[str] | None = None
    owner: Literal["self", "any"] | None = None


class Grant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    resource: str
    actions: list[str] = Field(min_length=1)
    constraints: Constraints | None = None

    @field_validator("resource")
    @classmethod
    def _known_resource(cls, value: str) -> str:
        if value != ANY and value not in RESOURCES:
            raise ValueError(f"unknown resource {value!r}: one of {', '.join(RESOURCES)} "
                             "or *")
        return value

    @field_validator("actions")
    @classmethod
    def _known_actions(cls, value: list[str]) -> list[str]:
        for action in value:
            if action != ANY and action not in ACTIONS:
                raise ValueError(f"unknown action {action!r}: one of {', '.join(ACTIONS)} "
                                 "or *")
        return value

    def covers(self, resource: str, action: str) -> bool:
        if self.resource not in (ANY, resource):
            return False
        return (ANY in self.actions or action in self.actions
                or ("manage" in self.actions and action != "decrypt"))


class PermissionSetDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str = Field(min_length=3, max_length=255, pattern=r"^[a-z0-9_-]+\.[A-Za-z0-9_.-]+$")
    label: str = Field(min_length=1, max_length=255)
    description: str = ""
    grants: list[Grant] = Field(default_factory=list)

    @property
    def pack_ref(self) -> str:
        return self.ref.split(".", 1)[0]


@dataclass(frozen=True)
class Target:
    """The object an action is about, as far as constraints look at it."""

    ref: str | None = None
    pack_ref: str | None = None
    #: login of whoever owns the object (a key's identity, an identity itself)
    owner: str | None = None
    #: id of the identity that owns it, where objects record ids (an execution's requester)
    owner_id: int | None = None


def _matches(patterns: Iterable[str], value: str | None) -> bool:
    return value is not None and any(fnmatchcase(value, p) for p in patterns)


def owned_by(target: Target, login: str, identity_id: int | None) -> bool:
    if target.owner is not None:
        return target.owner == login
    return target.owner_id is not None and target.owner_id == identity_id


def satisfies(constraints: Constraints | None, login: str, target: Target,
              identity_id: int | None = None) -> bool:
    if constraints is None:
        return True
    if constraints.pack_refs is not None and not _matches(constraints.pack_refs,
                                                          target.pack_ref):
        return False
    if constraints.refs is not None and not _matches(constraints.refs, target.ref):
        return False
    return constraints.owner != "self" or owned_by(target, login, identity_id)


def permits(grants: Sequence[Grant], resource: str, action: str, *, login: str,
            target: Target | None = None, identity_id: int | None = None) -> bool:
    """Whether any grant allows `action` on `resource`. Without a target this answers
    "on some object" (the route-level check); with one, constraints must match it."""
    for grant in grants:
        if not grant.covers(resource, action):
            continue
        if target is None or satisfies(grant.constraints, login, target, identity_id):
            return True
    return False


def unrestricted(grants: Sequence[Grant], resource: str, action: str) -> bool:
    """Whether some grant allows the action on every object (no constraints): lists
    then need no filtering."""
    return any(g.covers(resource, action) and g.constraints is None for g in grants)


@register
class PermissionSetDefined(Event):
    type: Literal["permission_set.defined"] = "permission_set.defined"
    definition: PermissionSetDef
    source: Literal["pack", "api"]


@register
class PermissionSetDeleted(Event):
    type: Literal["permission_set.deleted"] = "permission_set.deleted"
    ref: str
