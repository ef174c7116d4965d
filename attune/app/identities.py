"""Identities: creation (login unique by the stream itself), bootstrap of the admin,
password checks and changes, display name and attributes, freezing, deletion, and the
assignment of permission sets. An identity is an aggregate keyed by its login; its id
is the stream sequence of its creation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from attune.app.context import Context
from attune.domain.events import Event
from attune.domain.identity import (
    IdentityCreated,
    IdentityDeleted,
    IdentityFrozen,
    IdentityPasswordChanged,
    IdentityUnfrozen,
    IdentityUpdated,
    PermissionSetAssigned,
    PermissionSetUnassigned,
)
from attune.domain.permission import Grant
from attune.errors import (
    ConcurrencyError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)
from attune.eventstore.envelope import Meta
from attune.security.passwords import hash_password, verify_password

AGGREGATE = "identity"
ADMIN_LOGIN = "admin"
ADMIN_SET = "core.admin"
ADMIN_SETS = [ADMIN_SET]
#: core.admin is built in, so administrators can act before any pack is registered
#: (and cannot lock themselves out by redefining the set).
ADMIN_GRANTS: tuple[Grant, ...] = (Grant(resource="*", actions=["*"]),)
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Identity:
    id: int
    login: str
    display_name: str
    permission_set_refs: list[str]
    frozen: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    #: the grants of the identity's permission sets, as the read model has them
    set_grants: tuple[Grant, ...] = ()

    @property
    def is_admin(self) -> bool:
        return ADMIN_SET in self.permission_set_refs

    @property
    def grants(self) -> tuple[Grant, ...]:
        return ADMIN_GRANTS + self.set_grants if self.is_admin else self.set_grants

    def public(self) -> dict[str, object]:
        return {"id": self.id, "login": self.login, "display_name": self.display_name}


_SELECT = """
SELECT i.id, i.login, i.display_name, i.permission_set_refs, i.frozen, i.attributes,
       i.password_hash, i.created, i.updated,
       coalesce((SELECT jsonb_agg(g) FROM permission_sets s,
                        jsonb_array_elements(s.grants) g
                 WHERE s.ref = ANY(i.permission_set_refs)), '[]'::jsonb) AS grants
FROM identities i"""


def _identity(row: asyncpg.Record) -> Identity:
    return Identity(id=row["id"], login=row["login"], display_name=row["display_name"],
                    permission_set_refs=list(row["permission_set_refs"]),
                    frozen=row["frozen"], attributes=dict(row["attributes"]),
                    set_grants=tuple(Grant.model_validate(g) for g in row["grants"]))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"password must be at least {MIN_PASSWORD} characters")


async def create(ctx: Context, login: str, password: str, *, display_name: str | None = None,
                 permission_set_refs: list[str] | None = None,
                 attributes: dict[str, Any] | None = None, meta: Meta) -> int:
    login = login.strip()
    if not login or len(login) > 128:
        raise ValidationError("login must be 1-128 characters")
    check_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)
    event = IdentityCreated(at=ctx.clock(), login=login, display_name=display_name or login,
                            password_hash=password_hash,
                            permission_set_refs=permission_set_refs or [],
                            attributes=attributes or {})
    try:
        return await ctx.store.append(login, event, expected_version=0,
                                      msg_id=f"identity:{login}:created", meta=meta)
    except ConcurrencyError:
        raise ConflictError(f"identity {login!r} already exists (logins of deleted "
                            "identities are not reused)") from None


async def ensure_admin(ctx: Context, password: str) -> bool:
    """Create `admin` unless it exists. Returns True when it was created now."""
    _, version = await ctx.store.load(AGGREGATE, ADMIN_LOGIN)
    if version:
        return False
    try:
        await create(ctx, ADMIN_LOGIN, password, display_name="Administrator",
                     permission_set_refs=ADMIN_SETS, meta=Meta.new(actor="system"))
    except ConflictError:
        return False
    return True


async def by_id(ctx: Context, identity_id: int) -> Identity | None:
    row = await ctx.pool.fetchrow(f"{_SELECT} WHERE i.id = $1", identity_id)
    return _identity(row) if row else None


async def get(ctx: Context, identity_id: int) -> Identity:
    found = await by_id(ctx, identity_id)
    if found is None:
        raise NotFoundError(f"identity {identity_id} not found: GET /api/v1/identities "
                            "lists them")
    return found


async def authenticate(ctx: Context, login: str, password: str) -> Identity:
    row = await ctx.pool.fetchrow(f"{_SELECT} WHERE i.login = $1", login)
    # argon2 takes ~100+ ms of CPU by design: keep it off the event loop
    ok = row is not None and await asyncio.to_thread(verify_password, row["password_hash"],
                                                     password)
    if row is None or not ok:
        raise UnauthorizedError("invalid login or password")
    identity = _identity(row)
    refuse_frozen(identity)
    return identity


def refuse_frozen(identity: Identity) -> None:
    if identity.frozen:
        raise ForbiddenError(f"identity {identity.login!r} is frozen: an administrator can "
                             "unfreeze it (POST /api/v1/identities/{id}/unfreeze)")


async def append(ctx: Context, login: str, event: Event, *, meta: Meta, what: str) -> int:
    """Append to an existing identity (404 when it does not exist or was deleted)."""
    for _ in range(5):
        envelopes, version = await ctx.store.load(AGGREGATE, login)
        if not envelopes or isinstance(envelopes[-1].event, IdentityDeleted):
            raise NotFoundError(f"identity {login!r} not found")
        try:
            return await ctx.store.append(login, event, expected_version=version,
                                          msg_id=f"identity:{login}:{version}:{what}",
                                          meta=meta)
        except ConcurrencyError:
            continue
    raise ConflictError(f"identity {login!r} keeps changing: retry")


async def change_password(ctx: Context, identity: Identity, current: str, new: str, *,
                          meta: Meta) -> int:
    await authenticate(ctx, identity.login, current)
    check_password(new)
    if new == current:
        raise ValidationError("the new password must differ from the current one")
    password_hash = await asyncio.to_thread(hash_password, new)
    return await set_password_hash(ctx, identity.login, password_hash, meta=meta)


async def set_password(ctx: Context, login: str, password: str, *, meta: Meta) -> int:
    check_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)
    return await set_password_hash(ctx, login, password_hash, meta=meta)


async def set_password_hash(ctx: Context, login: str, password_hash: str, *, meta: Meta
                            ) -> int:
    event = IdentityPasswordChanged(at=ctx.clock(), login=login, password_hash=password_hash)
    return await append(ctx, login, event, meta=meta, what="password")


async def update(ctx: Context, login: str, *, display_name: str | None = None,
                 attributes: dict[str, Any] | None = None, meta: Meta) -> int:
    if display_name is None and attributes is None:
        raise ValidationError("nothing to change: send display_name and/or attributes")
    event = IdentityUpdated(at=ctx.clock(), login=login, display_name=display_name,
                            attributes=attributes)
    return await append(ctx, login, event, meta=meta, what="updated")


async def set_frozen(ctx: Context, login: str, frozen: bool, *, meta: Meta) -> int:
    if login == ADMIN_LOGIN and frozen:
        raise ConflictError("the built-in admin cannot be frozen: it is how you get back in")
    event: Event = (IdentityFrozen(at=ctx.clock(), login=login) if frozen
                    else IdentityUnfrozen(at=ctx.clock(), login=login))
    return await append(ctx, login, event, meta=meta,
                         what="frozen" if frozen else "unfrozen")


async def delete(ctx: Context, login: str, *, meta: Meta) -> int:
    if login == ADMIN_LOGIN:
        raise ConflictError("the built-in admin cannot be deleted")
    return await append(ctx, login, IdentityDeleted(at=ctx.clock(), login=login),
                         meta=meta, what="deleted")


async def assign(ctx: Context, login: str, permission_set_ref: str, *, meta: Meta) -> int:
    if await ctx.pool.fetchval("SELECT 1 FROM permission_sets WHERE ref = $1",
                               permission_set_ref) is None and permission_set_ref != ADMIN_SET:
        raise ValidationError(f"permission set {permission_set_ref!r} not found: GET "
                              "/api/v1/permissions/sets lists them")
    event = PermissionSetAssigned(at=ctx.clock(), login=login,
                                  permission_set_ref=permission_set_ref)
    return await append(ctx, login, event, meta=meta, what=f"assign:{permission_set_ref}")


async def unassign(ctx: Context, login: str, permission_set_ref: str, *, meta: Meta) -> int:
    event = PermissionSetUnassigned(at=ctx.clock(), login=login,
                                    permission_set_ref=permission_set_ref)
    return await append(ctx, login, event, meta=meta,
                         what=f"unassign:{permission_set_ref}")
