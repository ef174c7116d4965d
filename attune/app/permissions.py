"""Permission sets: defined by packs (`permission_sets/*.yaml`) or through the API,
one aggregate per ref; the grants of sets; and execution tokens, which carry the sets
an action was granted rather than those of whoever asked for the execution."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

from attune.app.context import Context
from attune.domain.events import Event
from attune.domain.permission import (
    Grant,
    PermissionSetDef,
    PermissionSetDefined,
    PermissionSetDeleted,
)
from attune.errors import ConcurrencyError, ConflictError, NotFoundError, ValidationError
from attune.eventstore.envelope import Meta
from attune.packs.permission_sets import load_permission_sets

AGGREGATE = "permission_set"
Source = Literal["pack", "api"]


async def load(ctx: Context, ref: str) -> tuple[PermissionSetDefined | None, int]:
    envelopes, version = await ctx.store.load(AGGREGATE, ref)
    state: PermissionSetDefined | None = None
    for envelope in envelopes:
        if isinstance(envelope.event, PermissionSetDefined):
            state = envelope.event
        elif isinstance(envelope.event, PermissionSetDeleted):
            state = None
    return state, version


async def _append(ctx: Context, ref: str, event: Event, version: int, *, meta: Meta) -> int:
    try:
        return await ctx.store.append(ref, event, expected_version=version,
                                      msg_id=f"permission_set:{ref}:{version}:{event.name}",
                                      meta=meta)
    except ConcurrencyError:
        raise ConflictError(f"permission set {ref!r} changed meanwhile: retry") from None


async def create(ctx: Context, definition: PermissionSetDef, *, meta: Meta) -> int:
    if await ctx.pool.fetchval("SELECT 1 FROM packs WHERE ref = $1",
                               definition.pack_ref) is None:
        raise ValidationError(f"pack {definition.pack_ref!r} of permission set "
                              f"{definition.ref!r} is not registered")
    state, version = await load(ctx, definition.ref)
    if state is not None:
        raise ConflictError(f"permission set {definition.ref!r} already exists: change it "
                            f"with PUT /api/v1/permissions/sets/{definition.ref}")
    event = PermissionSetDefined(at=ctx.clock(), definition=definition, source="api")
    return await _append(ctx, definition.ref, event, version, meta=meta)


async def update(ctx: Context, ref: str, changes: dict[str, Any], *, meta: Meta) -> int:
    state, version = await load(ctx, ref)
    if state is None:
        raise NotFoundError(f"permission set {ref!r} not found")
    values = {**state.definition.model_dump(), **changes}
    definition = PermissionSetDef.model_validate(values)
    event = PermissionSetDefined(at=ctx.clock(), definition=definition, source=state.source)
    return await _append(ctx, ref, event, version, meta=meta)


async def delete(ctx: Context, ref: str, *, meta: Meta) -> int:
    state, version = await load(ctx, ref)
    if state is None:
        raise NotFoundError(f"permission set {ref!r} not found")
    if state.source == "pack":
        raise ConflictError(f"permission set {ref!r} comes from pack "
                            f"{state.definition.pack_ref!r}: remove it from the pack's "
                            "permission_sets/ and register the pack again")
    return await _append(ctx, ref, PermissionSetDeleted(at=ctx.clock(), ref=ref), version,
                         meta=meta)


async def load_pack_sets(pack_ref: str, directory: str | Path) -> list[PermissionSetDef]:
    """The permission sets of a pack directory (PackError naming the file when wrong)."""
    return await asyncio.to_thread(load_permission_sets, directory, pack_ref)


async def register_pack_sets(ctx: Context, pack_ref: str, sets: list[PermissionSetDef], *,
                             meta: Meta) -> int:
    """Bring the pack's permission sets to `sets` (its `permission_sets/` folder):
    define new or changed ones, delete those it no longer has. Returns the last
    sequence appended (0 when nothing changed)."""
    wanted = {s.ref: s for s in sets}
    existing = {r["ref"] for r in await ctx.pool.fetch(
        "SELECT ref FROM permission_sets WHERE pack_ref = $1 AND source = 'pack'", pack_ref)}
    last = 0
    for ref in sorted(wanted.keys() | existing):
        state, version = await load(ctx, ref)
        if ref in wanted:
            if state is not None and state.definition == wanted[ref] and state.source == "pack":
                continue
            event: Event = PermissionSetDefined(at=ctx.clock(), definition=wanted[ref],
                                                source="pack")
        elif state is not None and state.source == "pack":
            event = PermissionSetDeleted(at=ctx.clock(), ref=ref)
        else:
            continue
        last = await _append(ctx, ref, event, version, meta=meta)
    return last


async def grants_of_sets(ctx: Context, refs: list[str]) -> tuple[Grant, ...]:
    from attune.app.identities import ADMIN_GRANTS, ADMIN_SET

    rows = await ctx.pool.fetch("SELECT grants FROM permission_sets WHERE ref = ANY($1)",
                                refs)
    grants = tuple(Grant.model_validate(g) for r in rows for g in r["grants"])
    return ADMIN_GRANTS + grants if ADMIN_SET in refs else grants


def issue_execution_token(ctx: Context, *, identity_id: int, login: str, execution_id: int,
                          permission_set_refs: list[str], ttl: int) -> str:
    """The token an execution uses to call back (SDK): it may do what the permission
    sets its action was granted allow, whatever the requester may do."""
    return ctx.tokens.issue(identity_id, login, "execution", ttl=ttl,
                            metadata={"execution_id": execution_id,
                                      "permission_set_refs": list(permission_set_refs)})
