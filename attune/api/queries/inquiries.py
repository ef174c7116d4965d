"""Reading inquiries."""

from __future__ import annotations

import asyncpg

from attune.api.models.inquiries import InquiryOut
from attune.errors import NotFoundError

_COLUMNS = ("id, execution_id, workflow_execution_id, prompt, response_schema, assigned_to, "
            "status, response, responded_by, timeout_at, created, updated")
_FILTER = ("($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR assigned_to = $2)")


async def find(pool: asyncpg.Pool, inquiry_id: int) -> InquiryOut | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM inquiries WHERE id = $1", inquiry_id)
    return None if row is None else InquiryOut(**dict(row))


async def get(pool: asyncpg.Pool, inquiry_id: int) -> InquiryOut:
    found = await find(pool, inquiry_id)
    if found is None:
        raise NotFoundError(f"inquiry {inquiry_id} not found: GET /api/v1/inquiries lists "
                            "them")
    return found


async def list_page(pool: asyncpg.Pool, *, status: str | None, assigned_to: str | None,
                    limit: int, offset: int) -> list[InquiryOut]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM inquiries WHERE {_FILTER} ORDER BY id DESC "
        "LIMIT $3 OFFSET $4", status, assigned_to, limit, offset)
    return [InquiryOut(**dict(r)) for r in rows]


async def count(pool: asyncpg.Pool, *, status: str | None, assigned_to: str | None) -> int:
    total: int = await pool.fetchval(f"SELECT count(*) FROM inquiries WHERE {_FILTER}",
                                     status, assigned_to)
    return total
