"""Reading workflows: the actions whose definition holds a workflow."""

from __future__ import annotations

from typing import Any

import asyncpg

from attune.api.models.workflows import WorkflowOut
from attune.errors import NotFoundError

_COLUMNS = "ref, pack_ref, enabled, definition, created, updated"
_IS_WORKFLOW = "definition ? 'workflow' AND definition->'workflow' <> 'null'::jsonb"


def _workflow(row: asyncpg.Record) -> WorkflowOut:
    action: dict[str, Any] = row["definition"]
    return WorkflowOut(
        ref=row["ref"], pack_ref=row["pack_ref"], name=action["name"], label=action["label"],
        description=action.get("description", ""), enabled=row["enabled"],
        parameters=action.get("parameters", {}),
        timeout_seconds=action.get("timeout_seconds"), tags=action.get("tags", []),
        definition=action["workflow"], created=row["created"], updated=row["updated"])


async def find(pool: asyncpg.Pool, ref: str) -> WorkflowOut | None:
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM actions WHERE ref = $1 AND {_IS_WORKFLOW}", ref)
    return None if row is None else _workflow(row)


async def get(pool: asyncpg.Pool, ref: str) -> WorkflowOut:
    found = await find(pool, ref)
    if found is None:
        raise NotFoundError(f"workflow {ref!r} not found: GET /api/v1/workflows lists them")
    return found


async def list_page(pool: asyncpg.Pool, *, pack_ref: str | None, limit: int, offset: int
                    ) -> list[WorkflowOut]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM actions WHERE {_IS_WORKFLOW} "
        "AND ($1::text IS NULL OR pack_ref = $1) ORDER BY ref LIMIT $2 OFFSET $3",
        pack_ref, limit, offset)
    return [_workflow(r) for r in rows]


async def count(pool: asyncpg.Pool, *, pack_ref: str | None) -> int:
    total: int = await pool.fetchval(
        f"SELECT count(*) FROM actions WHERE {_IS_WORKFLOW} "
        "AND ($1::text IS NULL OR pack_ref = $1)", pack_ref)
    return total
