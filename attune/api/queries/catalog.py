"""Packs and actions from their read models."""

from __future__ import annotations

from typing import Any

import asyncpg

from attune.api.models import ActionOut, PackDetailOut, PackOut
from attune.domain.action import ActionDef
from attune.domain.pack import PackDef
from attune.errors import NotFoundError

_PACK_COLUMNS = "definition, created, updated"
_ACTION_COLUMNS = "definition, created, updated"


def pack_out(pack: PackDef, **stamps: Any) -> PackOut:
    return PackOut(**pack.model_dump(exclude={"config"}), **stamps)


def action_out(action: ActionDef, **stamps: Any) -> ActionOut:
    return ActionOut(**action.model_dump(), **stamps)


def _pack(row: asyncpg.Record) -> PackOut:
    return pack_out(PackDef.model_validate(row["definition"]), created=row["created"],
                    updated=row["updated"])


def _action(row: asyncpg.Record) -> ActionOut:
    return action_out(ActionDef.model_validate(row["definition"]), created=row["created"],
                      updated=row["updated"])


async def list_packs(pool: asyncpg.Pool, *, limit: int, offset: int) -> list[PackOut]:
    rows = await pool.fetch(f"SELECT {_PACK_COLUMNS} FROM packs ORDER BY ref "
                            "LIMIT $1 OFFSET $2", limit, offset)
    return [_pack(r) for r in rows]


async def count_packs(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM packs"))


async def get_pack(pool: asyncpg.Pool, ref: str) -> PackDetailOut:
    row = await pool.fetchrow(f"SELECT {_PACK_COLUMNS} FROM packs WHERE ref = $1", ref)
    if row is None:
        raise NotFoundError(f"pack {ref!r} not found: GET /api/v1/packs lists the registered "
                            "packs; POST /api/v1/packs/register adds one")
    actions = await list_actions(pool, pack_ref=ref, limit=None, offset=0)
    return PackDetailOut(**_pack(row).model_dump(), actions=actions)


async def list_actions(pool: asyncpg.Pool, *, pack_ref: str | None, limit: int | None,
                       offset: int) -> list[ActionOut]:
    rows = await pool.fetch(
        f"SELECT {_ACTION_COLUMNS} FROM actions WHERE ($1::text IS NULL OR pack_ref = $1) "
        "ORDER BY ref LIMIT $2 OFFSET $3", pack_ref, limit, offset)
    return [_action(r) for r in rows]


async def count_actions(pool: asyncpg.Pool, *, pack_ref: str | None) -> int:
    return int(await pool.fetchval(
        "SELECT count(*) FROM actions WHERE ($1::text IS NULL OR pack_ref = $1)", pack_ref))


async def get_action(pool: asyncpg.Pool, ref: str) -> ActionOut:
    row = await pool.fetchrow(f"SELECT {_ACTION_COLUMNS} FROM actions WHERE ref = $1", ref)
    if row is None:
        raise NotFoundError(f"action {ref!r} not found: GET /api/v1/actions lists the actions "
                            "(refs are <pack>.<name>, e.g. core.echo)")
    return _action(row)
