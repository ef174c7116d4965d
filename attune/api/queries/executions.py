"""Executions from their read model, newest first, secrets redacted."""

from __future__ import annotations

import asyncpg

from attune.api.models import ExecutionOut
from attune.domain.execution import Status
from attune.errors import NotFoundError
from attune.security.crypto import redact

_COLUMNS = ("id, action_ref, status, parameters, env_vars, timeout_seconds, result, worker, "
            "requested_by, parent, enforcement, created, updated, started_at, finished_at")
_FILTER = "WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR action_ref = $2)"


def _execution(row: asyncpg.Record) -> ExecutionOut:
    data = dict(row)
    data["parameters"] = redact(data["parameters"])
    return ExecutionOut.model_validate(data)


async def find(pool: asyncpg.Pool, execution_id: int) -> ExecutionOut | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM executions WHERE id = $1",
                              execution_id)
    return _execution(row) if row else None


async def get(pool: asyncpg.Pool, execution_id: int) -> ExecutionOut:
    found = await find(pool, execution_id)
    if found is None:
        raise NotFoundError(f"execution {execution_id} not found: GET /api/v1/executions "
                            "lists executions")
    return found


async def list_page(pool: asyncpg.Pool, *, status: Status | None, action_ref: str | None,
                    limit: int, offset: int) -> list[ExecutionOut]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM executions {_FILTER} ORDER BY id DESC LIMIT $3 OFFSET $4",
        status.value if status else None, action_ref, limit, offset)
    return [_execution(r) for r in rows]


async def count(pool: asyncpg.Pool, *, status: Status | None, action_ref: str | None) -> int:
    return int(await pool.fetchval(f"SELECT count(*) FROM executions {_FILTER}",
                                   status.value if status else None, action_ref))
