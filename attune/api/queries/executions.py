"""Executions from their read model, newest first, secrets redacted."""

from __future__ import annotations

import asyncpg

from attune.api.models import ExecutionOut
from attune.api.queries.search import Where
from attune.domain.execution import Status
from attune.errors import NotFoundError
from attune.security.crypto import redact

_COLUMNS = ("id, action_ref, status, parameters, env_vars, timeout_seconds, result, worker, "
            "requested_by, parent, enforcement, created, updated, started_at, finished_at, "
            "rule_ref, trigger_ref, event_id, waiting_reason")


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


def _where(*, status: Status | None, action_ref: str | None, rule_ref: str | None,
           trigger_ref: str | None, enforcement: int | None) -> Where:
    where = Where()
    where.equals("status", status.value if status else None)
    where.equals("action_ref", action_ref)
    where.ref("rule_ref", rule_ref)
    where.ref("trigger_ref", trigger_ref)
    where.equals("enforcement", enforcement)
    return where


async def list_page(pool: asyncpg.Pool, *, status: Status | None, action_ref: str | None,
                    rule_ref: str | None = None, trigger_ref: str | None = None,
                    enforcement: int | None = None, limit: int, offset: int
                    ) -> list[ExecutionOut]:
    where = _where(status=status, action_ref=action_ref, rule_ref=rule_ref,
                   trigger_ref=trigger_ref, enforcement=enforcement)
    page = where.page(limit, offset)
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM executions {where.sql} ORDER BY id DESC {page}", *where.args)
    return [_execution(r) for r in rows]


async def count(pool: asyncpg.Pool, *, status: Status | None, action_ref: str | None,
                rule_ref: str | None = None, trigger_ref: str | None = None,
                enforcement: int | None = None) -> int:
    where = _where(status=status, action_ref=action_ref, rule_ref=rule_ref,
                   trigger_ref=trigger_ref, enforcement=enforcement)
    return int(await pool.fetchval(f"SELECT count(*) FROM executions {where.sql}",
                                   *where.args))
