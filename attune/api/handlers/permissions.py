"""Permission sets (from packs and the API) and their assignments to identities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.handlers.identities import answer, target_identity
from attune.api.models import CommandAccepted, DeletedOut, IdPath, PageQuery, RefPath
from attune.api.models.identities import (
    AssignmentCreateRequest,
    AssignmentListQuery,
    AssignmentOut,
    PermissionSetCreateRequest,
    PermissionSetOut,
    PermissionSetUpdateRequest,
)
from attune.api.queries import identities as reads
from attune.api.routing import Call, Permission, Route
from attune.app import identities, permissions
from attune.domain.permission import PermissionSetDef
from attune.errors import ConflictError

_ACCEPTED = {202: CommandAccepted}


async def list_sets(call: Call) -> web.Response:
    query = call.query_as(PageQuery)
    items = await reads.permission_sets(call.ctx.pool, pack_ref=None,
                                        limit=query.fetch_limit, offset=query.offset)
    total = (await call.ctx.pool.fetchval("SELECT count(*) FROM permission_sets")
             if query.include_total else None)
    return envelopes.page(items, query, total=total)


async def get_set(call: Call) -> web.Response:
    return envelopes.single(await reads.permission_set(call.ctx.pool,
                                                       call.path_as(RefPath).ref))


def _set_reader(call: Call, ref: str) -> Callable[[], Awaitable[PermissionSetOut | None]]:
    async def read() -> PermissionSetOut | None:
        return await reads.find_permission_set(call.ctx.pool, ref)
    return read


async def create_set(call: Call) -> web.Response:
    body = call.body_as(PermissionSetCreateRequest)
    definition = PermissionSetDef(ref=body.ref, label=body.label,
                                  description=body.description, grants=body.grants)
    seq = await permissions.create(call.ctx, definition, meta=call.meta)
    return await answer(call, seq, body.ref, _set_reader(call, body.ref), status=201)


async def update_set(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    body = call.body_as(PermissionSetUpdateRequest)
    changes = {k: getattr(body, k) for k in body.model_fields_set
               if getattr(body, k) is not None}
    seq = await permissions.update(call.ctx, ref, changes, meta=call.meta)
    return await answer(call, seq, ref, _set_reader(call, ref))


async def delete_set(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await permissions.delete(call.ctx, ref, meta=call.meta)
    await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS)
    return envelopes.json_response(
        envelopes.dump(DeletedOut(message=f"permission set {ref!r} deleted")),
        headers={envelopes.SEQUENCE_HEADER: str(seq)})


async def list_assignments(call: Call) -> web.Response:
    query = call.query_as(AssignmentListQuery)
    items = await reads.assignments(call.ctx.pool, identity_id=query.identity_id,
                                    permission_set_ref=query.permission_set_ref,
                                    limit=query.fetch_limit, offset=query.offset)
    return envelopes.page(items, query)


async def create_assignment(call: Call) -> web.Response:
    body = call.body_as(AssignmentCreateRequest)
    found = await target_identity(call, body.identity_id, "read")
    seq = await identities.assign(call.ctx, found.login, body.permission_set_ref,
                                  meta=call.meta)

    async def read() -> AssignmentOut | None:
        rows = await reads.assignments(call.ctx.pool, identity_id=found.id,
                                       permission_set_ref=body.permission_set_ref,
                                       limit=1, offset=0)
        return rows[0] if rows else None
    return await answer(call, seq, found.login, read, status=201)


async def delete_assignment(call: Call) -> web.Response:
    assignment = await reads.assignment(call.ctx.pool, call.path_as(IdPath).id)
    if assignment.login == identities.ADMIN_LOGIN and \
            assignment.permission_set_ref == identities.ADMIN_SET:
        raise ConflictError("the built-in admin keeps core.admin")
    seq = await identities.unassign(call.ctx, assignment.login,
                                    assignment.permission_set_ref, meta=call.meta)
    await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS)
    return envelopes.json_response(envelopes.dump(DeletedOut(
        message=f"{assignment.permission_set_ref} no longer assigned to "
                f"{assignment.login!r}")), headers={envelopes.SEQUENCE_HEADER: str(seq)})


_READ = Permission("permissions", "read")
_MANAGE = Permission("permissions", "manage")
_SETS = "/api/v1/permissions/sets"

ROUTES = [
    Route("GET", _SETS, list_sets, "List permission sets", _READ, "permissions",
          query=PageQuery, response=PermissionSetOut, envelope="list"),
    Route("POST", _SETS, create_set,
          "Create a permission set (grants: [{resource, actions[], constraints?}])",
          Permission("permissions", "create"), "permissions",
          body=PermissionSetCreateRequest, response=PermissionSetOut, status=201,
          alternatives=_ACCEPTED, command=True),
    Route("GET", _SETS + "/{ref}", get_set, "Show a permission set", _READ, "permissions",
          params=RefPath, response=PermissionSetOut),
    Route("PUT", _SETS + "/{ref}", update_set,
          "Change a permission set's label, description or grants",
          Permission("permissions", "update"), "permissions", params=RefPath,
          body=PermissionSetUpdateRequest, response=PermissionSetOut,
          alternatives=_ACCEPTED, command=True),
    Route("DELETE", _SETS + "/{ref}", delete_set,
          "Delete a permission set created through the API",
          Permission("permissions", "delete"), "permissions", params=RefPath,
          response=DeletedOut, envelope="raw", command=True),
    Route("GET", "/api/v1/permissions/assignments", list_assignments,
          "List assignments of permission sets (filters: identity_id, permission_set_ref)",
          _READ, "permissions", query=AssignmentListQuery, response=AssignmentOut,
          envelope="list"),
    Route("POST", "/api/v1/permissions/assignments", create_assignment,
          "Assign a permission set to an identity", _MANAGE, "permissions",
          body=AssignmentCreateRequest, response=AssignmentOut, status=201,
          alternatives=_ACCEPTED, command=True),
    Route("DELETE", "/api/v1/permissions/assignments/{id}", delete_assignment,
          "Remove an assignment", _MANAGE, "permissions", params=IdPath,
          response=DeletedOut, envelope="raw", command=True),
]
