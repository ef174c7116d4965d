"""Catalogue components (triggers, rules...) created and changed through the API: the
steps every kind shares around `attune.app.catalog.execute` — the ref names an existing
pack, creation refuses an existing ref, an update merges the changed fields into the
current definition and validates the whole again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from attune.app import catalog as components
from attune.app.context import Context
from attune.domain import catalog
from attune.errors import ConflictError, NotFoundError, ValidationError
from attune.eventstore.envelope import Meta
from attune.packs.fields import NAME

D = TypeVar("D", bound=BaseModel)
Check = Callable[[D], Awaitable[D]]


async def pack_of(ctx: Context, kind: catalog.Kind[Any], ref: str) -> str:
    """The pack an API-created component belongs to: `<pack>.<name>`, pack registered."""
    pack_ref, dot, name = ref.partition(".")
    if not dot or not pack_ref or not NAME.match(name):
        raise ValidationError(
            f"ref: {ref!r} must be <pack>.<name> (the name matching [a-z][a-z0-9_-]*), "
            f"e.g. mypack.my_{kind.name}", details=[{"field": "ref", "message": "bad ref"}])
    if await ctx.pool.fetchval("SELECT 1 FROM packs WHERE ref = $1", pack_ref) is None:
        raise NotFoundError(f"pack {pack_ref!r} not found: a {kind.name} belongs to a "
                            "registered pack (GET /api/v1/packs lists them)")
    return pack_ref


def build(model: type[D], values: Mapping[str, Any]) -> D:
    """`values` as `model`; every problem is a 422 naming its field."""
    try:
        return model.model_validate(dict(values))
    except PydanticValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                   for e in exc.errors(include_url=False)]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        raise ValidationError(f"invalid definition: {summary}", details=details) from None


async def create(ctx: Context, kind: catalog.Kind[D], definition: D, *, meta: Meta) -> int:
    """Define a new component; 409 when the ref is taken. Returns the sequence to wait for."""
    ref = str(getattr(definition, "ref"))  # noqa: B009 (definitions all have a ref)
    state, _ = await components.load(ctx, kind, ref)
    if state is not None:
        raise ConflictError(f"{kind.name} {ref!r} already exists: change it with "
                            f"PUT /api/v1/{kind.name}s/{ref}")
    _, seq = await components.execute(ctx, kind, ref, catalog.Define(
        definition=definition, source="api"), meta=meta)
    return seq


async def update(ctx: Context, kind: catalog.Kind[D], ref: str, changes: Mapping[str, Any],
                 check: Check[D] | None = None, *, meta: Meta) -> int:
    """Merge `changes` into the current definition, validate it (and pass it through
    `check`, the kind's own rules), define it."""
    state, _ = await components.load(ctx, kind, ref)
    if state is None:
        raise NotFoundError(f"{kind.name} {ref!r} not found")
    current = state.definition.model_dump()
    model = type(state.definition)
    definition = build(model, {**current, **changes})
    if check is not None:
        definition = await check(definition)
    _, seq = await components.execute(ctx, kind, ref, catalog.Define(
        definition=definition, source="api"), meta=meta)
    return seq


async def delete(ctx: Context, kind: catalog.Kind[D], ref: str, *, meta: Meta) -> int:
    _, seq = await components.execute(ctx, kind, ref, catalog.Delete(), meta=meta)
    return seq


async def set_enabled(ctx: Context, kind: catalog.Kind[D], ref: str, enabled: bool, *,
                      meta: Meta) -> int:
    command = catalog.Enable() if enabled else catalog.Disable()
    _, seq = await components.execute(ctx, kind, ref, command, meta=meta)
    return seq
