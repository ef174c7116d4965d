"""Identities: list (only those the caller may read), show, create, change, delete,
freeze/unfreeze, their permissions, and their integration tokens. Handlers check the
identity itself against the caller's grants, so `owner: self` grants reach only the
caller's own identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.models import CommandAccepted, DeletedOut, PageQuery
from attune.api.models.identities import (
    AssignRequest,
    IdentityCreateRequest,
    IdentityListQuery,
    IdentityOut,
    IdentityPath,
    IdentityPermissionsOut,
    IdentityUpdateRequest,
    IntegrationTokenCreatedOut,
    IntegrationTokenCreateRequest,
    IntegrationTokenOut,
    IntegrationTokenPath,
)
from attune.api.queries import identities as reads
from attune.api.queries import visible
from attune.api.routing import Call, Permission, Route
from attune.app import identities, integration_tokens
from attune.app.authorization import allowed, authorize
from attune.app.identities import Identity
from attune.errors import ConflictError, NotFoundError

_ACCEPTED = {202: CommandAccepted}


async def answer(call: Call, seq: int, ref: str, read: Callable[[], Awaitable[BaseModel | None]],
                 *, status: int = 200) -> web.Response:
    """Read your write: the object as it now is, or 202 while the read model lags."""
    if await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS):
        found = await read()
        if found is not None:
            return envelopes.single(found, status=status, sequence=seq)
    return envelopes.single(CommandAccepted(ref=ref, sequence=seq), status=202, sequence=seq)


async def target_identity(call: Call, identity_id: int, action: str) -> Identity:
    """The identity of the path, once the caller may do `action` on it (404 first for
    those it may not even read, so ids do not reveal who exists)."""
    missing = NotFoundError(f"identity {identity_id} not found: GET /api/v1/identities "
                            "lists them")
    found = await identities.by_id(call.ctx, identity_id)
    if found is None:
        raise missing
    target = reads.identity_target(found.login)
    if not allowed(call.user, "identities", "read", target):
        raise missing
    authorize(call.user, "identities", action, target)
    return found


def _reader(call: Call, identity_id: int) -> Callable[[], Awaitable[IdentityOut | None]]:
    async def read() -> IdentityOut | None:
        return await reads.find_identity(call.ctx.pool, identity_id)
    return read


async def list_identities(call: Call) -> web.Response:
    query = call.query_as(IdentityListQuery)
    filters = reads.IdentityFilters(q=query.q, frozen=query.frozen)

    async def scan(after: str, limit: int) -> list[IdentityOut]:
        return await reads.scan_identities(call.ctx.pool, filters, after=after, limit=limit)

    items, total = await visible.page(
        scan, lambda i: i.login,
        lambda i: allowed(call.user, "identities", "read", reads.identity_target(i.login)),
        offset=query.offset, limit=query.fetch_limit, count=query.include_total)
    return envelopes.page(items, query, total=total)


async def create_identity(call: Call) -> web.Response:
    body = call.body_as(IdentityCreateRequest)
    if body.permission_set_refs:
        authorize(call.user, "permissions", "manage")
        for ref in body.permission_set_refs:
            if ref != identities.ADMIN_SET and await reads.find_permission_set(
                    call.ctx.pool, ref) is None:
                raise NotFoundError(f"permission set {ref!r} not found: GET "
                                    "/api/v1/permissions/sets lists them")
    seq = await identities.create(call.ctx, body.login, body.password,
                                  display_name=body.display_name,
                                  permission_set_refs=body.permission_set_refs,
                                  attributes=body.attributes, meta=call.meta)
    return await answer(call, seq, body.login, _reader(call, seq), status=201)


async def get_identity(call: Call) -> web.Response:
    found = await target_identity(call, call.path_as(IdentityPath).id, "read")
    return envelopes.single(await reads.identity(call.ctx.pool, found.id))


async def update_identity(call: Call) -> web.Response:
    found = await target_identity(call, call.path_as(IdentityPath).id, "update")
    body = call.body_as(IdentityUpdateRequest)
    seq = 0
    if body.password is not None:
        authorize(call.user, "identities", "manage", reads.identity_target(found.login))
        seq = await identities.set_password(call.ctx, found.login, body.password,
                                            meta=call.meta)
    if body.display_name is not None or body.attributes is not None or seq == 0:
        seq = await identities.update(call.ctx, found.login, display_name=body.display_name,
                                      attributes=body.attributes, meta=call.meta)
    return await answer(call, seq, found.login, _reader(call, found.id))


async def delete_identity(call: Call) -> web.Response:
    found = await target_identity(call, call.path_as(IdentityPath).id, "delete")
    if found.id == call.user.id:
        raise ConflictError("you cannot delete yourself: ask another administrator")
    seq = await identities.delete(call.ctx, found.login, meta=call.meta)
    await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS)
    body = DeletedOut(message=f"identity {found.login!r} deleted")
    return envelopes.json_response(envelopes.dump(body),
                                   headers={envelopes.SEQUENCE_HEADER: str(seq)})


async def _set_frozen(call: Call, frozen: bool) -> web.Response:
    found = await target_identity(call, call.path_as(IdentityPath).id, "manage")
    if frozen and found.id == call.user.id:
        raise ConflictError("you cannot freeze yourself")
    seq = await identities.set_frozen(call.ctx, found.login, frozen, meta=call.meta)
    return await answer(call, seq, found.login, _reader(call, found.id))


async def freeze_identity(call: Call) -> web.Response:
    return await _set_frozen(call, True)


async def unfreeze_identity(call: Call) -> web.Response:
    return await _set_frozen(call, False)


async def identity_permissions(call: Call) -> web.Response:
    found = await target_identity(call, call.path_as(IdentityPath).id, "read")
    return envelopes.single(IdentityPermissionsOut(
        identity_id=found.id, login=found.login,
        permission_set_refs=found.permission_set_refs, grants=list(found.grants)))


async def assign_permission_set(call: Call) -> web.Response:
    found = await target_identity(call, call.path_as(IdentityPath).id, "read")
    ref = call.body_as(AssignRequest).permission_set_ref
    seq = await identities.assign(call.ctx, found.login, ref, meta=call.meta)

    async def read() -> IdentityPermissionsOut | None:
        now = await identities.by_id(call.ctx, found.id)
        if now is None:
            return None
        return IdentityPermissionsOut(identity_id=now.id, login=now.login,
                                      permission_set_refs=now.permission_set_refs,
                                      grants=list(now.grants))
    return await answer(call, seq, found.login, read, status=201)


async def list_tokens(call: Call) -> web.Response:
    found = await target_identity(call, call.path_as(IdentityPath).id, "read")
    query = call.query_as(PageQuery)
    items = await reads.tokens(call.ctx.pool, found.id)
    page = items[query.offset:query.offset + query.fetch_limit]
    return envelopes.page(page, query, total=len(items) if query.include_total else None)


async def create_token(call: Call) -> web.Response:
    found = await target_identity(call, call.path_as(IdentityPath).id, "update")
    body = call.body_as(IntegrationTokenCreateRequest)
    made = await integration_tokens.create(call.ctx, found, body.label,
                                           ttl_seconds=body.ttl_seconds, meta=call.meta)
    await call.waiter.wait_for(made.sequence, WRITE_WAIT_SECONDS)
    stored = await reads.token(call.ctx.pool, found.id, made.token_id)
    out = IntegrationTokenCreatedOut(
        id=made.token_id, identity_id=found.id, label=body.label, token=made.token,
        created=stored.created if stored else call.ctx.clock(),
        expires_at=stored.expires_at if stored else None)
    # the token is in this answer only: no cache may keep it
    return envelopes.json_response({"data": envelopes.dump(out)}, status=201, headers={
        "Cache-Control": "no-store", envelopes.SEQUENCE_HEADER: str(made.sequence)})


async def revoke_token(call: Call) -> web.Response:
    path = call.path_as(IntegrationTokenPath)
    found = await target_identity(call, path.id, "update")
    seq = await integration_tokens.revoke(call.ctx, found, path.token_id, meta=call.meta)

    async def read() -> IntegrationTokenOut | None:
        return await reads.token(call.ctx.pool, found.id, path.token_id)
    return await answer(call, seq, path.token_id, read)


async def delete_token(call: Call) -> web.Response:
    return await revoke_token(call)


_READ = Permission("identities", "read")
_UPDATE = Permission("identities", "update")
_ONE = "/api/v1/identities/{id}"
_TOKENS = _ONE + "/integration-tokens"

ROUTES = [
    Route("GET", "/api/v1/identities", list_identities,
          "List the identities the caller may read (filters: q, frozen)", _READ,
          "identities", query=IdentityListQuery, response=IdentityOut, envelope="list"),
    Route("POST", "/api/v1/identities", create_identity,
          "Create an identity (assigning permission sets needs permissions:manage)",
          Permission("identities", "create"), "identities", body=IdentityCreateRequest,
          response=IdentityOut, status=201, alternatives=_ACCEPTED, command=True),
    Route("GET", _ONE, get_identity, "Show an identity", _READ, "identities",
          params=IdentityPath, response=IdentityOut),
    Route("PUT", _ONE, update_identity,
          "Change display name and attributes (a new password needs identities:manage)",
          _UPDATE, "identities", params=IdentityPath, body=IdentityUpdateRequest,
          response=IdentityOut, alternatives=_ACCEPTED, command=True),
    Route("DELETE", _ONE, delete_identity, "Delete an identity; its tokens stop working",
          Permission("identities", "delete"), "identities", params=IdentityPath,
          response=DeletedOut, envelope="raw", command=True),
    Route("POST", _ONE + "/freeze", freeze_identity,
          "Freeze an identity: its tokens stop working at once",
          Permission("identities", "manage"), "identities", params=IdentityPath,
          response=IdentityOut, alternatives=_ACCEPTED, command=True),
    Route("POST", _ONE + "/unfreeze", unfreeze_identity, "Unfreeze an identity",
          Permission("identities", "manage"), "identities", params=IdentityPath,
          response=IdentityOut, alternatives=_ACCEPTED, command=True),
    Route("GET", _ONE + "/permissions", identity_permissions,
          "The permission sets of an identity and their grants", _READ, "identities",
          params=IdentityPath, response=IdentityPermissionsOut),
    Route("POST", _ONE + "/permissions", assign_permission_set,
          "Assign a permission set to an identity", Permission("permissions", "manage"),
          "permissions", params=IdentityPath, body=AssignRequest,
          response=IdentityPermissionsOut, status=201, alternatives=_ACCEPTED,
          command=True),
    Route("GET", _TOKENS, list_tokens, "The integration tokens of an identity (never the "
          "tokens themselves)", _READ, "identities", params=IdentityPath, query=PageQuery,
          response=IntegrationTokenOut, envelope="list"),
    Route("POST", _TOKENS, create_token,
          "Create an integration token (attune_it_...): shown once, only its hash is kept",
          _UPDATE, "identities", params=IdentityPath, body=IntegrationTokenCreateRequest,
          response=IntegrationTokenCreatedOut, status=201, command=True),
    Route("POST", _TOKENS + "/{token_id}/revoke", revoke_token,
          "Revoke an integration token: it and the sessions made with it stop working",
          _UPDATE, "identities", params=IntegrationTokenPath, response=IntegrationTokenOut,
          alternatives=_ACCEPTED, command=True),
    Route("DELETE", _TOKENS + "/{token_id}", delete_token,
          "Revoke an integration token (same as POST .../revoke)", _UPDATE, "identities",
          params=IntegrationTokenPath, response=IntegrationTokenOut,
          alternatives=_ACCEPTED, command=True),
]
