"""Reading workflows: the actions whose definition holds a workflow."""

from __future__ import annotations

from typing import Any

import asyncpg

from attune.api.models.workflows import ExecutionNodeOut, WorkflowOut
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


#: A tree shows at most this many executions (a with_items of 10,000 is summarised).
MAX_TREE_NODES = 2000
_TREE = """
WITH RECURSIVE tree(id, depth) AS (
    SELECT id, 0 FROM executions WHERE id = $1
    UNION ALL
    SELECT e.id, t.depth + 1 FROM executions e JOIN tree t ON e.parent = t.id
    WHERE t.depth < 20
)
SELECT e.id, e.parent, e.action_ref, e.status, e.started_at, e.finished_at,
       c.task, c.run, c.item, c.attempt
FROM tree t JOIN executions e ON e.id = t.id
LEFT JOIN workflow_children c ON c.execution_id = e.id
ORDER BY e.id LIMIT $2"""


async def tree(pool: asyncpg.Pool, root_id: int) -> ExecutionNodeOut:
    """An execution with its descendants (children in the order they were requested)."""
    rows = await pool.fetch(_TREE, root_id, MAX_TREE_NODES)
    if not rows:
        raise NotFoundError(f"execution {root_id} not found")
    nodes: dict[int, ExecutionNodeOut] = {}
    for row in rows:
        node = ExecutionNodeOut(
            id=row["id"], action_ref=row["action_ref"], status=row["status"],
            task=row["task"], run=row["run"], item=row["item"], attempt=row["attempt"],
            started_at=row["started_at"], finished_at=row["finished_at"])
        nodes[row["id"]] = node
        parent = nodes.get(row["parent"]) if row["parent"] is not None else None
        if parent is not None and row["id"] != root_id:
            parent.children.append(node)
    return nodes[root_id]
