"""Events and enforcements from their read models, newest first."""

from __future__ import annotations

import asyncpg

from attune.api.models import EnforcementOut, EventOut
from attune.api.queries.search import Where
from attune.errors import NotFoundError
from attune.security.crypto import redact

_EVENT = ("SELECT id, trigger_ref, payload, source, source_ref, rule_ref, trigger_instance_id, "
          "metadata, created FROM events")
_ENFORCEMENT = ("SELECT id, rule_ref, trigger_ref, event_id, action_ref, status, payload, "
                "config, conditions, condition, execution_id, reason, created, resolved_at "
                "FROM enforcements")


def _event_where(trigger_ref: str | None, source: str | None, rule_ref: str | None) -> Where:
    where = Where()
    where.equals("trigger_ref", trigger_ref)
    where.equals("source", source)
    where.equals("rule_ref", rule_ref)
    return where


async def list_events(pool: asyncpg.Pool, *, trigger_ref: str | None, source: str | None,
                      rule_ref: str | None, limit: int, offset: int) -> list[EventOut]:
    where = _event_where(trigger_ref, source, rule_ref)
    page = where.page(limit, offset)
    rows = await pool.fetch(f"{_EVENT} {where.sql} ORDER BY id DESC {page}", *where.args)
    return [EventOut.model_validate(dict(r)) for r in rows]


async def count_events(pool: asyncpg.Pool, *, trigger_ref: str | None, source: str | None,
                       rule_ref: str | None) -> int:
    where = _event_where(trigger_ref, source, rule_ref)
    return int(await pool.fetchval(f"SELECT count(*) FROM events {where.sql}", *where.args))


async def find_event(pool: asyncpg.Pool, event_id: int) -> EventOut | None:
    row = await pool.fetchrow(f"{_EVENT} WHERE id = $1", event_id)
    return EventOut.model_validate(dict(row)) if row else None


async def get_event(pool: asyncpg.Pool, event_id: int) -> EventOut:
    found = await find_event(pool, event_id)
    if found is None:
        raise NotFoundError(f"event {event_id} not found: GET /api/v1/events lists events")
    return found


def _enforcement(row: asyncpg.Record) -> EnforcementOut:
    data = dict(row)
    data["config"] = redact(data["config"])
    return EnforcementOut.model_validate(data)


def _enforcement_where(rule_ref: str | None, event_id: int | None, status: str | None
                       ) -> Where:
    where = Where()
    where.equals("rule_ref", rule_ref)
    where.equals("event_id", event_id)
    where.equals("status", status)
    return where


async def list_enforcements(pool: asyncpg.Pool, *, rule_ref: str | None,
                            event_id: int | None, status: str | None, limit: int,
                            offset: int) -> list[EnforcementOut]:
    where = _enforcement_where(rule_ref, event_id, status)
    page = where.page(limit, offset)
    rows = await pool.fetch(f"{_ENFORCEMENT} {where.sql} ORDER BY id DESC {page}",
                            *where.args)
    return [_enforcement(r) for r in rows]


async def count_enforcements(pool: asyncpg.Pool, *, rule_ref: str | None,
                             event_id: int | None, status: str | None) -> int:
    where = _enforcement_where(rule_ref, event_id, status)
    return int(await pool.fetchval(f"SELECT count(*) FROM enforcements {where.sql}",
                                   *where.args))


async def get_enforcement(pool: asyncpg.Pool, enforcement_id: int) -> EnforcementOut:
    row = await pool.fetchrow(f"{_ENFORCEMENT} WHERE id = $1", enforcement_id)
    if row is None:
        raise NotFoundError(f"enforcement {enforcement_id} not found: GET "
                            "/api/v1/enforcements lists enforcements")
    return _enforcement(row)
