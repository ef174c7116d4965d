"""Triggers defined through the API (pack triggers come with their pack): create,
update, delete, enable, disable, and the current definition from the read model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attune.app import components
from attune.app.context import Context
from attune.domain.trigger import TRIGGER, TriggerDef
from attune.errors import ConflictError, NotFoundError
from attune.eventstore.envelope import Meta

#: how many referencing rules a refused delete names
SHOWN_RULES = 5


async def definition(ctx: Context, ref: str) -> TriggerDef:
    """The trigger as the read model has it; 404 naming it when unknown."""
    row = await ctx.pool.fetchrow("SELECT definition FROM triggers WHERE ref = $1", ref)
    if row is None:
        raise NotFoundError(f"trigger {ref!r} not found: GET /api/v1/triggers lists the "
                            "triggers (refs are <pack>.<name>, e.g. core.webhook)")
    return TriggerDef.model_validate(row["definition"])


async def create(ctx: Context, values: Mapping[str, Any], *, meta: Meta) -> int:
    """`values` are the fields of TriggerDef but pack_ref, which the ref gives."""
    ref = str(values["ref"])
    pack_ref = await components.pack_of(ctx, TRIGGER, ref)
    fields = {"label": ref.partition(".")[2], **values, "pack_ref": pack_ref}
    trigger = components.build(TriggerDef, fields)
    return await components.create(ctx, TRIGGER, trigger, meta=meta)


async def update(ctx: Context, ref: str, changes: Mapping[str, Any], *, meta: Meta) -> int:
    return await components.update(ctx, TRIGGER, ref, changes, meta=meta)


async def delete(ctx: Context, ref: str, *, meta: Meta) -> int:
    """Refused while rules use the trigger: they would wait for events that never come."""
    rules = [r["ref"] for r in await ctx.pool.fetch(
        "SELECT ref FROM rules WHERE trigger_ref = $1 ORDER BY ref LIMIT $2", ref,
        SHOWN_RULES + 1)]
    if rules:
        shown = ", ".join(rules[:SHOWN_RULES]) + (", ..." if len(rules) > SHOWN_RULES else "")
        raise ConflictError(f"trigger {ref!r} is used by rules ({shown}): delete them or "
                            "point them at another trigger first")
    return await components.delete(ctx, TRIGGER, ref, meta=meta)


async def set_enabled(ctx: Context, ref: str, enabled: bool, *, meta: Meta) -> int:
    return await components.set_enabled(ctx, TRIGGER, ref, enabled, meta=meta)
