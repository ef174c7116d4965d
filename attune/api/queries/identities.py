"""Identities, their integration tokens, permission sets and assignments from the read
model."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from attune.api.models.identities import (
    AssignmentOut,
    IdentityOut,
    IntegrationTokenOut,
    PermissionSetOut,
)
from attune.api.queries.search import Where, like_escape
from attune.domain.permission import Target
from attune.errors import NotFoundError

_IDENTITY = ("SELECT id, login, display_name, frozen, attributes, permission_set_refs, "
             "created, updated FROM identities")


def identity_target(login: str) -> Target:
    """An identity is its own owner (`owner: self` grants reach only oneself)."""
    return Target(ref=login, owner=login)


def _identity(row: asyncpg.Record) -> IdentityOut:
    return IdentityOut.model_validate({**dict(row),
                                       "permission_set_refs": list(row["permission_set_refs"])})


@dataclass(frozen=True)
class IdentityFilters:
    q: str | None = None
    frozen: bool | None = None

    def where(self) -> Where:
        where = Where()
        for word in (self.q or "").split():
            where.add("(lower(login) LIKE {0} OR lower(display_name) LIKE {0})",
                      "%" + like_escape(word.lower()) + "%")
        where.equals("frozen", self.frozen)
        return where


async def scan_identities(pool: asyncpg.Pool, filters: IdentityFilters, *, after: str,
                          limit: int) -> list[IdentityOut]:
    where = filters.where()
    where.add("login > {}", after)
    where.args.append(limit)
    rows = await pool.fetch(f"{_IDENTITY} {where.sql} ORDER BY login LIMIT "
                            f"${len(where.args)}", *where.args)
    return [_identity(r) for r in rows]


async def identity(pool: asyncpg.Pool, identity_id: int) -> IdentityOut:
    row = await pool.fetchrow(f"{_IDENTITY} WHERE id = $1", identity_id)
    if row is None:
        raise NotFoundError(f"identity {identity_id} not found: GET /api/v1/identities "
                            "lists them")
    return _identity(row)


async def find_identity(pool: asyncpg.Pool, identity_id: int) -> IdentityOut | None:
    row = await pool.fetchrow(f"{_IDENTITY} WHERE id = $1", identity_id)
    return _identity(row) if row else None


async def tokens(pool: asyncpg.Pool, identity_id: int) -> list[IntegrationTokenOut]:
    rows = await pool.fetch(
        "SELECT id, identity_id, name AS label, created, expires_at, revoked_at "
        "FROM integration_tokens WHERE identity_id = $1 ORDER BY created, id", identity_id)
    return [IntegrationTokenOut.model_validate(dict(r)) for r in rows]


async def token(pool: asyncpg.Pool, identity_id: int, token_id: str
                ) -> IntegrationTokenOut | None:
    row = await pool.fetchrow(
        "SELECT id, identity_id, name AS label, created, expires_at, revoked_at "
        "FROM integration_tokens WHERE identity_id = $1 AND id = $2", identity_id, token_id)
    return IntegrationTokenOut.model_validate(dict(row)) if row else None


_SET = ("SELECT ref, pack_ref, label, description, grants, source, created, updated "
        "FROM permission_sets")


async def permission_sets(pool: asyncpg.Pool, *, pack_ref: str | None, limit: int,
                          offset: int) -> list[PermissionSetOut]:
    where = Where()
    where.equals("pack_ref", pack_ref)
    page = where.page(limit, offset)
    rows = await pool.fetch(f"{_SET} {where.sql} ORDER BY ref {page}", *where.args)
    return [PermissionSetOut.model_validate(dict(r)) for r in rows]


async def find_permission_set(pool: asyncpg.Pool, ref: str) -> PermissionSetOut | None:
    row = await pool.fetchrow(f"{_SET} WHERE ref = $1", ref)
    return PermissionSetOut.model_validate(dict(row)) if row else None


async def permission_set(pool: asyncpg.Pool, ref: str) -> PermissionSetOut:
    found = await find_permission_set(pool, ref)
    if found is None:
        raise NotFoundError(f"permission set {ref!r} not found: GET "
                            "/api/v1/permissions/sets lists them")
    return found


_ASSIGNMENT = ("SELECT id, identity_id, login, permission_set_ref, created "
               "FROM permission_assignments")


async def assignments(pool: asyncpg.Pool, *, identity_id: int | None,
                      permission_set_ref: str | None, limit: int, offset: int
                      ) -> list[AssignmentOut]:
    where = Where()
    where.equals("identity_id", identity_id)
    where.equals("permission_set_ref", permission_set_ref)
    page = where.page(limit, offset)
    rows = await pool.fetch(f"{_ASSIGNMENT} {where.sql} ORDER BY id {page}", *where.args)
    return [AssignmentOut.model_validate(dict(r)) for r in rows]


async def assignment(pool: asyncpg.Pool, assignment_id: int) -> AssignmentOut:
    row = await pool.fetchrow(f"{_ASSIGNMENT} WHERE id = $1", assignment_id)
    if row is None:
        raise NotFoundError(f"permission assignment {assignment_id} not found: GET "
                            "/api/v1/permissions/assignments lists them")
    return AssignmentOut.model_validate(dict(row))
