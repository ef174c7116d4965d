"""The audit trail from its read model (`audit_events`, a view over requests and
changes)."""

from __future__ import annotations

import asyncpg

from attune.api.models.audit import AuditEventOut, AuditListQuery
from attune.api.queries.search import Where

_COLUMNS = ("id, kind, at, request_id, actor, actor_id, token_type, category, event_type, "
            "action, resource_ref, outcome, status, duration_ms")


def _where(query: AuditListQuery) -> Where:
    where = Where()
    where.equals("kind", query.kind)
    where.equals("actor", query.actor)
    where.equals("category", query.category)
    where.equals("outcome", query.outcome)
    where.equals("resource_ref", query.resource_ref)
    where.equals("request_id", query.request_id)
    if query.since is not None:
        where.add("at >= {}", query.since)
    if query.until is not None:
        where.add("at < {}", query.until)
    return where


async def _with_token_types(pool: asyncpg.Pool, rows: list[asyncpg.Record]
                            ) -> list[AuditEventOut]:
    """A change's token type is that of the request that made it."""
    wanted = sorted({r["request_id"] for r in rows
                     if r["kind"] == "change" and r["request_id"]})
    types: dict[str, str] = {}
    if wanted:
        found = await pool.fetch(
            "SELECT DISTINCT ON (request_id) request_id, token_type FROM audit_requests "
            "WHERE request_id = ANY($1::text[]) AND token_type IS NOT NULL", wanted)
        types = {r["request_id"]: r["token_type"] for r in found}
    out = []
    for r in rows:
        values = dict(r)
        if values["token_type"] is None and values["request_id"] in types:
            values["token_type"] = types[values["request_id"]]
        out.append(AuditEventOut(**values))
    return out


async def page(pool: asyncpg.Pool, query: AuditListQuery) -> list[AuditEventOut]:
    """Newest first; `fetch_limit` rows (one more than a page says there is a next)."""
    where = _where(query)
    sql = (f"SELECT {_COLUMNS} FROM audit_events {where.sql} ORDER BY at DESC, id DESC "
           + where.page(query.fetch_limit, query.offset))
    return await _with_token_types(pool, await pool.fetch(sql, *where.args))


async def count(pool: asyncpg.Pool, query: AuditListQuery) -> int:
    where = _where(query)
    return int(await pool.fetchval(f"SELECT count(*) FROM audit_events {where.sql}",
                                   *where.args))


async def by_id(pool: asyncpg.Pool, event_id: int) -> AuditEventOut | None:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM audit_events WHERE id = $1", event_id)
    found = await _with_token_types(pool, rows)
    return found[0] if found else None


async def by_request(pool: asyncpg.Pool, request_id: str, *, limit: int, offset: int
                     ) -> list[AuditEventOut]:
    """The request itself and every change that followed from it, in order."""
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM audit_events WHERE request_id = $1 "
                            "ORDER BY at, id LIMIT $2 OFFSET $3", request_id, limit, offset)
    return await _with_token_types(pool, rows)
